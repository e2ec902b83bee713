// One nn.Linear applied three times in a loop, trained by real PyTorch (shared_loop_wine,
// scripts/make-shared-loop-fixtures.py): model.py + state_dict, ONNX (three Gemm nodes on the initializer
// fc.weight), a TorchScript trace (fc.forward, fc.forward1, fc.forward2) and a TorchScript script (its
// `for _0 in range(3):` loop, unrolled) read to the same five layers, the later two uses sharing the first's
// weights; float = PyTorch within 1e-5. A scripted loop whose trip count comes from the input is refused. From `init` unedited (then the
// data-contract layout) it runs on anvil with fc stored once: chain = simulator, within tolerance of PyTorch.
import { describe, expect, test } from 'bun:test'
import { appendFileSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { parameterCount } from '../../src/ir/taskOf.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { pytorchOutputs, worstErrors } from '../helpers/pytorchOutputs.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { featureRows, fixtureProject } from '../helpers/fixtureProject.ts'

const DIR = path.join(FIXTURES, 'graph', 'shared_loop_wine')
type Spec = Parameters<typeof loadModel>[0]

describe('a Linear applied three times in a loop, from three formats', () => {
  const specs: [string, Spec][] = [
    ['model.py + state_dict', { path: path.join(DIR, 'model.state_dict.pt'), source: path.join(DIR, 'model.py') } as Spec],
    ['ONNX', { path: path.join(DIR, 'model.onnx') } as Spec],
    ['TorchScript trace', { path: path.join(DIR, 'model.trace.pt') } as Spec],
    ['TorchScript script', { path: path.join(DIR, 'model.script.pt') } as Spec],
  ]
  test('the same layers, uses 2 and 3 sharing fc, 547 parameters; float = PyTorch within 1e-5', async () => {
    const models = await Promise.all(specs.map(([, s]) => loadModel(s)))
    const first = JSON.stringify(models[0]!.layers)
    models.forEach((m, i) => {
      expect(m.layers.map((l) => [l.name, l.shares ?? null]), specs[i]![0]).toEqual([['inp', null], ['fc', null], ['fc', 1], ['fc', 1], ['out', null]])
      expect(JSON.stringify(m.layers), specs[i]![0]).toBe(first)
      // 13·16+16 + 16·16+16 + 16·3+3: fc once, as PyTorch's model.parameters() counts it
      expect(parameterCount(m)).toBe(547)
      expect(worstErrors(m, featureRows(DIR, 13), pytorchOutputs(DIR)).float, specs[i]![0]).toBeLessThan(1e-5)
    })
  })

  test('a scripted loop over x.size(1) - 12 steps: one line naming the loop, a linear-chain hint', async () => {
    // alone in a folder: beside it, model.py would be read in its place
    const dir = fixtureProject(DIR, ['data_loop.script.pt'], 'ml2sc-data-loop-')
    const r = await runCliInProcess(['inspect', 'data_loop.script.pt'], { cwd: dir })
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toContain('a loop whose trip count is not a constant ("for _0 in range(n):")')
    expect(r.stderr).toContain('[linear, relu, linear, relu, linear]')
    expect(r.stderr).not.toContain('gru')
  })

  test('inspect: the later uses name the layer whose weights they apply, with no parameters of their own', async () => {
    const r = await runCliInProcess(['inspect', path.join(DIR, 'model.onnx'), '--json'])
    expect(r.code, r.stderr).toBe(0)
    const layers = JSON.parse(r.stdout).layers as { parameters: number; shares?: number }[]
    expect(layers.map((l) => [l.parameters, l.shares ?? null])).toEqual([[224, null], [272, null], [0, 2], [0, 2], [51, null]])
  })

  test('model.onnx from `init` on the data-contract layout: fc stored once, chain = simulator, within tolerance', async () => {
    const dir = fixtureProject(DIR, ['model.onnx', 'test.csv', 'reference.csv'], 'ml2sc-shared-loop-')
    const init = await runCliInProcess(['init', 'model.onnx', '--data', 'test.csv'], { cwd: dir })
    expect(init.code, init.stderr).toBe(0)
    appendFileSync(path.join(dir, 'ml2sc.yaml'), 'weights:\n  layout: datacontract\n')
    const run = await runCliInProcess(['run', 'ml2sc.yaml', '--quiet'], { cwd: dir })
    expect(run.code, run.stderr).toBe(0)
    const report = JSON.parse(readFileSync(path.join(dir, 'out', 'report.json'), 'utf8'))
    expect(report.simulator).toMatchObject({ rows: 40, mismatches: 0 })
    expect(report.fidelity).toMatchObject({ enforced: true, against: 'pytorch-csv', within: true })
    expect(report.model.parameters).toBe(547)
    const plan = JSON.parse(readFileSync(path.join(dir, 'out', 'plan.json'), 'utf8')).plan
    expect(plan.layers.map((l: { shares?: number }) => l.shares ?? null)).toEqual([null, null, 1, 1, null])
    if (process.env.FUZZ_STATS) console.error(`shared_loop_wine: deploy ${report.gas.deploy}, upload ${report.gas.upload}, one predict ${report.gas.predictSingle}, per row ${report.gas.inference.perRow}`)
  }, 600_000)
})

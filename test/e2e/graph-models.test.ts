// Issue 19 part D: graph-shaped dense models as users write them (real PyTorch, scripts/make-graph-fixtures.py):
// a residual MLP (h = h + relu(fc1(h)); h = relu(fc2(h)) + h) and a concat MLP (torch.cat of the input and two
// branches). `ml2sc init <model> --data test.csv` reads the graph from model.py (or the ONNX export), `ml2sc run` deploys it on a
// real anvil with no edit, and the chain equals the simulator bit for bit and PyTorch within the tolerance.
import { describe, expect, test } from 'bun:test'
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { inspectTarget, renderInspect } from '../../src/commands/inspect.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'

const GRAPH = path.join(FIXTURES, 'graph')
const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'))
const csv = (f: string) =>
  readFileSync(f, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(',').map(Number))

/** The IR's float forward pass against PyTorch's outputs: the graph is read right (float32-close). */
async function floatDistance(name: string, onnx = false): Promise<number> {
  const d = path.join(GRAPH, name)
  const model = await loadModel(onnx ? { path: path.join(d, 'model.onnx') } : { path: path.join(d, 'model.state_dict.pt'), source: path.join(d, 'model.py') })
  const rows = csv(path.join(d, 'test.csv'))
  const ref = csv(path.join(d, 'reference.csv'))
  let worst = 0
  rows.forEach((r, i) => referenceForward(model, r.slice(0, -1)).forEach((v, j) => (worst = Math.max(worst, Math.abs(v - ref[i]![j + 1]!)))))
  return worst
}

describe('graph models from model.py: init then run, on a real anvil', () => {
  test('the IR of each fixture: which values each layer reads, and its float pass equals PyTorch', async () => {
    const res = await loadModel({ path: path.join(GRAPH, 'residual_wine', 'model.state_dict.pt'), source: path.join(GRAPH, 'residual_wine', 'model.py') })
    // fc1 reads fc_in's output (value 1); fc2 reads 1 + 2; the head reads 3 + (1 + 2), flattened to one sum
    expect(res.layers.map((l) => [l.name, l.input ?? null])).toEqual([
      ['fc_in', null],
      ['fc1', null],
      ['fc2', { op: 'add', values: [1, 2] }],
      ['out', { op: 'add', values: [3, 1, 2] }],
    ])
    const cat = await loadModel({ path: path.join(GRAPH, 'concat_digits', 'model.state_dict.pt'), source: path.join(GRAPH, 'concat_digits', 'model.py') })
    expect(cat.layers.map((l) => [l.name, l.input ?? null])).toEqual([
      ['wide', null],
      ['deep1', { op: 'concat', values: [0] }],
      ['deep2', null],
      ['mix', { op: 'concat', values: [0, 1, 3] }],
      ['head', null],
    ])
    expect(await floatDistance('residual_wine')).toBeLessThan(1e-4)
    expect(await floatDistance('concat_digits')).toBeLessThan(1e-4)
    // (x - self.mean) / self.std with registered buffers: folded into fc_in, then a residual block
    const std = await loadModel({ path: path.join(GRAPH, 'standardized_wine', 'model.state_dict.pt'), source: path.join(GRAPH, 'standardized_wine', 'model.py') })
    expect(std.layers.map((l) => [l.name, l.input ?? null])).toEqual([
      ['fc_in', null],
      ['fc1', null],
      ['out', { op: 'add', values: [1, 2] }],
    ])
    expect(await floatDistance('standardized_wine')).toBeLessThan(1e-4)
    // ml2sc inspect names what each graph layer reads
    const shown = renderInspect(await inspectTarget(path.join(GRAPH, 'concat_digits', 'model.onnx')))
    expect(shown).toContain("layer 2 'deep1' reads the input")
    expect(shown).toContain("layer 4 'mix' reads cat(the input, 'wide', 'deep2')")
    // the same models exported to ONNX (Add of two computed tensors, Concat on axis 1): the same graph
    // (the ONNX Sub and Div by the buffers' constants fold into fc_in as the source's do)
    for (const [name, ir] of [['residual_wine', res], ['concat_digits', cat], ['standardized_wine', std]] as const) {
      const onnx = await loadModel({ path: path.join(GRAPH, name, 'model.onnx') })
      expect(onnx.layers.map((l) => [l.name, l.input ?? null])).toEqual(ir.layers.map((l) => [l.name, l.input ?? null]))
      expect(onnx.layers.map((l) => l.activation)).toEqual(ir.layers.map((l) => l.activation))
      expect(await floatDistance(name, true)).toBeLessThan(1e-4)
    }
  })

  for (const [name, rows, file] of [
    ['residual_wine', 40, 'model.state_dict.pt'],
    ['concat_digits', 150, 'model.state_dict.pt'],
    ['residual_wine', 40, 'model.onnx'],
    ['standardized_wine', 40, 'model.state_dict.pt'],
  ] as const)
    test(`${name} (${file}): init --data test.csv writes a config that runs unedited; chain = simulator, within 1% of PyTorch`, async () => {
      const dir = mkdtempSync(path.join(tmpdir(), `ml2sc-graph-${name}-`))
      const files = file === 'model.onnx' ? [file, 'test.csv', 'reference.csv'] : [file, 'model.py', 'test.csv', 'reference.csv']
      for (const f of files) copyFileSync(path.join(GRAPH, name, f), path.join(dir, f))
      const init = await runCliInProcess(['init', file, '--data', 'test.csv'], { cwd: dir })
      expect(init.stderr).not.toContain('ml2sc: error')
      expect(init.code).toBe(0)
      const yaml = readFileSync(path.join(dir, 'ml2sc.yaml'), 'utf8')
      if (file !== 'model.onnx') expect(yaml).toContain('source: model.py')
      expect(yaml).not.toContain('guessed: true')

      const run = await runCliInProcess(['run', 'ml2sc.yaml'], { cwd: dir })
      expect(run.stderr).not.toContain('ml2sc: error')
      expect(run.code).toBe(0)
      const report = readJson(path.join(dir, 'out', 'report.json'))
      expect(report.fidelity).toMatchObject({ enforced: true, against: 'pytorch-csv', within: true, rows })
      expect(report.fidelity.worst.deviation).toBeLessThan(report.fidelity.worst.tolerance)
      expect(report.accuracy.agreement).toBe(1)
      // report.json says which values each layer reads (value 0 the input, k layer k's output)
      expect(report.model.architecture.some((l: { reads?: { op: string } }) => l.reads?.op === (name === 'concat_digits' ? 'concat' : 'add'))).toBe(true)
      const plan = readJson(path.join(dir, 'out', 'plan.json'))
      expect(plan.plan.layers.some((l: { input?: unknown }) => l.input)).toBe(true)
      expect(run.stdout + run.stderr).toContain('simulator mismatches 0')
    })
})

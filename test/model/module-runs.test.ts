// Models whose forward() loops over or reuses modules (nn.ModuleList, a shared module, a TorchScript graph),
// read from every format and run: one file (one bun process and module load) for what were three: modulelist,
// torchscript-graph and shared-loop-formats, each test as it was there.
//
// Issue 19: nn.ModuleList and nn.ModuleDict iterated in forward(), as tutorials write them: the loops are
// unrolled over the containers' known lengths (src/model/source/moduleLists.ts); TorchScript's unrolled code
// (script: index conditions as constant `if` blocks; trace: getattr(layers, "0")) reads to the same graph.
// Fixture from real PyTorch in five formats: scripts/make-modulelist-fixtures.py. The float pass equals
// PyTorch's outputs in each; loops that cannot be unrolled get one line naming model.py's line; and the
// model runs on anvil from `init` unedited, chain = simulator, within tolerance of PyTorch.
//
// Issue 19: graph models saved as TorchScript only (trace and script, no model.py): the residual sum
// (torch.add), the concatenation (torch.cat(…, 1)) and a tuple return are read from the archive's own code
// (src/model/pt/forwardInterpreter.ts), never run. Fixtures from real PyTorch:
// scripts/make-torchscript-graph-fixtures.py. The float pass equals PyTorch's outputs; the fixed-point twin
// goes through the same graph; and one model runs on anvil from `init` unedited, chain = simulator.
//
// One nn.Linear applied three times in a loop, trained by real PyTorch (shared_loop_wine,
// scripts/make-shared-loop-fixtures.py): model.py + state_dict, ONNX (three Gemm nodes on the initializer
// fc.weight), a TorchScript trace (fc.forward, fc.forward1, fc.forward2) and a TorchScript script (its
// `for _0 in range(3):` loop, unrolled) read to the same five layers, the later two uses sharing the first's
// weights; float = PyTorch within 1e-5. A scripted loop whose trip count comes from the input is refused. From `init` unedited (then the
// data-contract layout) it runs on anvil with fc stored once: chain = simulator, within tolerance of PyTorch.
import { describe, expect, test } from 'bun:test'
import path from 'node:path'
import { mkdtempSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { pytorchOutputs, worstErrors } from '../helpers/pytorchOutputs.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { featureRows, fixtureProject } from '../helpers/fixtureProject.ts'
import { parameterCount } from '../../src/ir/taskOf.ts'

const DIR = path.join(FIXTURES, 'graph', 'modulelist_wine')
const SRC = readFileSync(path.join(DIR, 'model.py'), 'utf8')
const rows = featureRows(DIR, 13)
const NAMES = ['inp', 'blocks.0.fc', 'blocks.1.fc', 'layers.0', 'layers.1', 'layers.2', 'post.a', 'post.b', 'mix.first', 'heads.0', 'heads.1', 'heads.2']
const ACTS = ['relu', 'relu', 'relu', 'relu', 'relu', 'identity', 'tanh', 'tanh', 'identity', 'relu', 'relu', 'identity']
type Spec = Parameters<typeof loadModel>[0]

/** The refusal's message and hint for model.py edited by `edit` (the fixture's state_dict). */
async function refusal(edit: (s: string) => string): Promise<{ message: string; hint?: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-mlist-'))
  writeFileSync(path.join(dir, 'model.py'), edit(SRC))
  const e = (await loadModel({ path: path.join(DIR, 'model.state_dict.pt'), source: path.join(dir, 'model.py'), class: 'ListNet' } as Spec).catch((x: Error) => x)) as Error & { hint?: string; shortMessage?: string }
  expect(e).toBeInstanceOf(Error)
  return { message: e.shortMessage ?? e.message, hint: e.hint }
}

describe('nn.ModuleList / nn.ModuleDict loops', () => {
  for (const file of ['model.state_dict.pt', 'model.whole.pt', 'model.trace.pt', 'model.script.pt', 'model.onnx'])
    test(`${file}: the loops unrolled (12 Linear layers, 3 residual sums); float = PyTorch within 1e-5, fixed within 1e-4`, async () => {
      const source = file === 'model.state_dict.pt' || file === 'model.whole.pt' ? { source: path.join(DIR, 'model.py'), class: 'ListNet' } : {}
      const model = await loadModel({ path: path.join(DIR, file), ...source } as Spec)
      expect(model.layers.map((l) => l.name)).toEqual(NAMES)
      expect(model.layers.map((l) => l.activation.kind as string)).toEqual(ACTS)
      expect(model.layers.filter((l) => l.input?.op === 'add').length).toBe(3)
      const torch = pytorchOutputs(DIR)
      const worst = worstErrors(model, rows, torch)
      expect(rows.length).toBe(40)
      expect(worst.float).toBeLessThan(1e-5)
      expect(worst.fixed).toBeLessThan(1e-4)
    })

  test('other forms: range(len(...)) with self.layers[i], zip, .items(), a comprehension whose length only the state_dict gives', async () => {
    const edited = SRC.replace('for i, layer in enumerate(self.layers):\n            x = layer(x)', 'for i in range(len(self.layers)):\n            x = self.layers[i](x)')
      .replace('for m in self.post.values():', 'for _, m in self.post.items():')
      .replace('for blk in self.blocks:\n            x = x + blk(x)', 'for blk, again in zip(self.blocks, self.blocks):\n            x = x + blk(x)')
      .replace('def __init__(self, n_in=13, hidden=16, n_out=3, depth=2):', 'def __init__(self, depth, n_in=13, hidden=16, n_out=3):')
    expect(edited).toContain('range(len(self.layers))')
    expect(edited).toContain('self.post.items()')
    expect(edited).toContain('zip(self.blocks, self.blocks)')
    expect(edited).toContain('def __init__(self, depth,')
    const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-mlist-'))
    writeFileSync(path.join(dir, 'model.py'), edited)
    const model = await loadModel({ path: path.join(DIR, 'model.state_dict.pt'), source: path.join(dir, 'model.py'), class: 'ListNet' } as Spec)
    expect(model.layers.map((l) => l.name)).toEqual(NAMES)
    expect(model.layers.map((l) => l.activation.kind as string)).toEqual(ACTS)
    const torch = pytorchOutputs(DIR)
    expect(Math.max(...rows.flatMap((row, r) => referenceForward(model, row).map((v, j) => Math.abs(v - torch[r]![j]!))))).toBeLessThan(1e-5)
  })

  test('loops that cannot be unrolled get one line naming model.py\'s line and a hint', async () => {
    const hint = /ml2sc unrolls `for` loops over an nn.ModuleList/
    const w = await refusal((s) => s.replace('for blk in self.blocks:\n            x = x + blk(x)', 'while x.sum() > 0:\n            x = x - 1'))
    expect(w.message).toBe("unsupported construct 'while x.sum() > 0:' at model.py:31")
    expect(w.hint).toMatch(hint)
    const r = await refusal((s) => s.replace('for blk in self.blocks:', 'for blk in range(x.shape[1]):'))
    expect(r.message).toBe("unsupported construct 'for blk in range(x.shape[1]):' at model.py:31")
    expect(r.hint).toMatch(hint)
    const t = await refusal((s) => s.replace('for blk in self.blocks:\n            x = x + blk(x)', 'for row in x:\n            x = x + row'))
    expect(t.message).toBe("unsupported construct 'for row in x:' at model.py:31")
    // a condition on a tensor inside a loop: the condition's line
    const c = await refusal((s) => s.replace('if i < len(self.layers) - 1:', 'if x.sum() > 0:'))
    expect(c.message).toBe("unsupported construct 'if x.sum() > 0' at model.py:35")
    const b = await refusal((s) => s.replace('            if i < len(self.layers) - 1:\n                x = F.relu(x)', '            if i == 1:\n                break'))
    expect(b.message).toBe("unsupported construct 'break' at model.py:36")
    expect(b.hint).toMatch(hint)
    // a ModuleList called as a module
    const l = await refusal((s) => s.replace('return self.heads[-1](x)', 'return self.heads(x)'))
    expect(l.message).toBe("unsupported construct 'self.heads(x)' at model.py:42")
    expect(l.hint).toContain('an nn.ModuleList is not callable')
    // an index past the end
    const e = await refusal((s) => s.replace('self.heads[-1](x)', 'self.heads[3](x)'))
    expect(e.message).toBe("unsupported construct 'self.heads[3]' at model.py:42")
    expect(e.hint).toBe('heads has 3 element(s): 0, 1, 2')
  })

  test('model.state_dict.pt + model.py on anvil from `init` unedited: chain = simulator, within tolerance of PyTorch', async () => {
    const dir = fixtureProject(DIR, ['model.state_dict.pt', 'model.py', 'test.csv', 'reference.csv'], 'ml2sc-mlist-run-')
    const init = await runCliInProcess(['init', 'model.state_dict.pt', '--data', 'test.csv'], { cwd: dir })
    expect(init.code, init.stderr).toBe(0)
    expect(readFileSync(path.join(dir, 'ml2sc.yaml'), 'utf8')).toContain('source: model.py')
    const run = await runCliInProcess(['run', 'ml2sc.yaml', '--quiet'], { cwd: dir })
    expect(run.code, run.stderr).toBe(0)
    const report = JSON.parse(readFileSync(path.join(dir, 'out', 'report.json'), 'utf8'))
    expect(report.fidelity).toMatchObject({ enforced: true, against: 'pytorch-csv', within: true })
    expect(report.simulator.mismatches).toBe(0)
    expect(report.simulator.rows).toBe(40)
    expect(report.accuracy.agreement).toBeGreaterThanOrEqual(0.95)
    expect(report.model.architecture.filter((l: { reads?: { op: string } }) => l.reads?.op === 'add').length).toBe(3)
  }, 600_000)
})

const GRAPH = path.join(FIXTURES, 'graph')
const rowsOf = (dir: string) => featureRows(dir, 13)

describe('TorchScript graph models (no source)', () => {
  for (const name of ['ts_graph', 'ts_heads'])
    for (const file of ['trace.pt', 'script.pt'])
      test(`${name}/${file}: the residual sum, the concat${name === 'ts_heads' ? ' and two heads' : ''} read from the code; float = PyTorch, fixed within 1e-4`, async () => {
        const dir = path.join(GRAPH, name)
        const model = await loadModel({ path: path.join(dir, file) } as Parameters<typeof loadModel>[0])
        expect(model.format).toBe('torchscript')
        // fc3 reads fc1 + fc2 (values 1 and 2); `out` (and `value`) read cat(fc3, fc4)
        expect(model.layers.find((l) => l.name === 'fc3')!.input).toMatchObject({ op: 'add', values: [1, 2] })
        expect(model.layers.find((l) => l.name === 'out')!.input).toMatchObject({ op: 'concat', values: [3, 4] })
        if (name === 'ts_heads') expect(model.heads).toEqual([{ name: 'out0', size: 3 }, { name: 'out1', size: 1 }])
        else expect(model.heads).toBeUndefined()
        const rows = rowsOf(dir)
        const torch = pytorchOutputs(dir)
        expect(rows.length).toBe(30)
        const worst = worstErrors(model, rows, torch)
        expect(worst.widths).toEqual(torch.map((t) => t.length))
        expect(worst.float).toBeLessThan(1e-5)
        expect(worst.fixed).toBeLessThan(1e-4)
      })

  test('ts_graph/trace.pt on anvil from `init` unedited: chain = simulator, within tolerance of PyTorch, every class kept', async () => {
    const dir = fixtureProject(path.join(GRAPH, 'ts_graph'), ['trace.pt', 'test.csv', 'reference.csv'], 'ml2sc-tsgraph-')
    const init = await runCliInProcess(['init', 'trace.pt', '--data', 'test.csv'], { cwd: dir })
    expect(init.code, init.stderr).toBe(0)
    const run = await runCliInProcess(['run', 'ml2sc.yaml', '--quiet'], { cwd: dir })
    expect(run.code, run.stderr).toBe(0)
    const report = JSON.parse(readFileSync(path.join(dir, 'out', 'report.json'), 'utf8'))
    expect(report.fidelity).toMatchObject({ enforced: true, within: true })
    expect(report.simulator.mismatches).toBe(0)
    expect(report.simulator.rows).toBeGreaterThan(20)
    expect(report.accuracy.agreement).toBe(1)
    expect(report.model.architecture.some((l: { reads?: { op: string } }) => l.reads?.op === 'add')).toBe(true)
    expect(report.model.architecture.some((l: { reads?: { op: string } }) => l.reads?.op === 'concat')).toBe(true)
  }, 600_000)
})

const LOOP_DIR = path.join(FIXTURES, 'graph', 'shared_loop_wine')

describe('a Linear applied three times in a loop, from three formats', () => {
  const specs: [string, Spec][] = [
    ['model.py + state_dict', { path: path.join(LOOP_DIR, 'model.state_dict.pt'), source: path.join(LOOP_DIR, 'model.py') } as Spec],
    ['ONNX', { path: path.join(LOOP_DIR, 'model.onnx') } as Spec],
    ['TorchScript trace', { path: path.join(LOOP_DIR, 'model.trace.pt') } as Spec],
    ['TorchScript script', { path: path.join(LOOP_DIR, 'model.script.pt') } as Spec],
  ]
  test('the same layers, uses 2 and 3 sharing fc, 547 parameters; float = PyTorch within 1e-5', async () => {
    const models = await Promise.all(specs.map(([, s]) => loadModel(s)))
    const first = JSON.stringify(models[0]!.layers)
    models.forEach((m, i) => {
      expect(m.layers.map((l) => [l.name, l.shares ?? null]), specs[i]![0]).toEqual([['inp', null], ['fc', null], ['fc', 1], ['fc', 1], ['out', null]])
      expect(JSON.stringify(m.layers), specs[i]![0]).toBe(first)
      // 13·16+16 + 16·16+16 + 16·3+3: fc once, as PyTorch's model.parameters() counts it
      expect(parameterCount(m)).toBe(547)
      expect(worstErrors(m, featureRows(LOOP_DIR, 13), pytorchOutputs(LOOP_DIR)).float, specs[i]![0]).toBeLessThan(1e-5)
    })
  })

  test('a scripted loop over x.size(1) - 12 steps: one line naming the loop, a linear-chain hint', async () => {
    // alone in a folder: beside it, model.py would be read in its place
    const dir = fixtureProject(LOOP_DIR, ['data_loop.script.pt'], 'ml2sc-data-loop-')
    const r = await runCliInProcess(['inspect', 'data_loop.script.pt'], { cwd: dir })
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toContain('a loop whose trip count is not a constant ("for _0 in range(n):")')
    expect(r.stderr).toContain('[linear, relu, linear, relu, linear]')
    expect(r.stderr).not.toContain('gru')
  })

  test('inspect: the later uses name the layer whose weights they apply, with no parameters of their own', async () => {
    const r = await runCliInProcess(['inspect', path.join(LOOP_DIR, 'model.onnx'), '--json'])
    expect(r.code, r.stderr).toBe(0)
    const layers = JSON.parse(r.stdout).layers as { parameters: number; shares?: number }[]
    expect(layers.map((l) => [l.parameters, l.shares ?? null])).toEqual([[224, null], [272, null], [0, 2], [0, 2], [51, null]])
  })

  test('model.onnx from `init` on the data-contract layout: fc stored once, chain = simulator, within tolerance', async () => {
    const dir = fixtureProject(LOOP_DIR, ['model.onnx', 'test.csv', 'reference.csv'], 'ml2sc-shared-loop-')
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

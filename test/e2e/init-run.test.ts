// Models as a newcomer runs them: `ml2sc init <model> --data test.csv`, then `ml2sc run` with init's config
// unedited, in-process (each run on its own embedded anvil). One file (one bun process and module load) for what
// were five: graph-models, layers-init-run, norm-models, convgraph-residual-run and convgraph-concat-run (the graph
// CNNs, helpers/convGraphRun.ts), each test as it was there.
//
// Issue 19 part D: graph-shaped dense models as users write them (real PyTorch, scripts/make-graph-fixtures.py):
// a residual MLP (h = h + relu(fc1(h)); h = relu(fc2(h)) + h) and a concat MLP (torch.cat of the input and two
// branches). `ml2sc init <model> --data test.csv` reads the graph from model.py (or the ONNX export), `ml2sc run` deploys it on a
// real anvil with no edit, and the chain equals the simulator bit for bit and PyTorch within the tolerance.
//
// Issue 19 (layers part) as a newcomer runs it: `ml2sc init <model> --data test.csv` beside the files real
// PyTorch wrote (scripts/make-layer-fixtures.py), then `ml2sc run ml2sc.yaml` with no edit: an embedding
// model and an adaptive-pool CNN from model.py + state_dict, the ceil_mode CNN from ONNX. Each deploys on
// the embedded anvil, the chain equals the simulator, PyTorch is within the tolerance; a row whose
// category is out of range gets one line naming its row, feature and embedding.
//
// Issue 19 (norms) end to end: the PyTorch fixtures with LayerNorm (two post-norm residual blocks) and with
// BatchNorm after an activation, GroupNorm and a BatchNorm on a torch.cat (scripts/make-norm-fixtures.py).
// `ml2sc init <model> --data test.csv` writes a config that runs unedited; `ml2sc run` deploys on a real
// anvil: the chain equals the simulator on every row and PyTorch within the tolerance. Gas is printed.
//
// Issue 19, a residual CNN as a newcomer runs it (scripts/make-conv-graph-fixtures.py, digits 8×8): model.py
// (a basic block as a custom module, an inline add with a 1×1-conv skip) beside its state_dict. `ml2sc init`
// then `ml2sc run` with init's config unedited, on the run's own anvil: the chain equals the simulator on
// every row, every output is within the tolerance of PyTorch's own (data.reference), and every class is PyTorch's.
//
// Issue 19, a CNN whose two conv branches are concatenated along the channels, as a newcomer runs it
// (scripts/make-conv-graph-fixtures.py, digits 8×8) from its ONNX export (Concat axis=1). `ml2sc init` then
// `ml2sc run` with init's config unedited, on the run's own anvil: the chain equals the simulator on every
// row, every output is within the tolerance of PyTorch's own (data.reference), and every class is PyTorch's.
import { describe, expect, test } from 'bun:test'
import path from 'node:path'
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { inspectTarget, renderInspect } from '../../src/commands/inspect.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { convGraphRun } from '../helpers/convGraphRun.ts'

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

const LAYERS = path.join(FIXTURES, 'layers')

describe('layer fixtures: init --data test.csv, then run unedited on a real anvil', () => {
  for (const [name, file, reads] of [
    ['embed_wine', 'model.state_dict.pt', 'categorical'],
    ['adaptive_digits', 'model.state_dict.pt', 'adaptive'],
    ['pools_digits', 'model.onnx', 'ceil'],
  ] as const)
    test(`${name} (${file})`, async () => {
      const dir = mkdtempSync(path.join(tmpdir(), `ml2sc-layers-${name}-`))
      const files = file === 'model.onnx' ? [file, 'test.csv', 'reference.csv'] : [file, 'model.py', 'test.csv', 'reference.csv']
      for (const f of files) copyFileSync(path.join(LAYERS, name, f), path.join(dir, f))
      const init = await runCliInProcess(['init', file, '--data', 'test.csv'], { cwd: dir })
      expect(init.stderr).not.toContain('ml2sc: error')
      expect(init.code).toBe(0)
      const yaml = readFileSync(path.join(dir, 'ml2sc.yaml'), 'utf8')
      if (file !== 'model.onnx') expect(yaml).toContain('source: model.py')

      const run = await runCliInProcess(['run', 'ml2sc.yaml'], { cwd: dir })
      expect(run.stderr).not.toContain('ml2sc: error')
      expect(run.code).toBe(0)
      expect(run.stdout + run.stderr).toContain('simulator mismatches 0')
      const report = readJson(path.join(dir, 'out', 'report.json'))
      expect(report.fidelity).toMatchObject({ enforced: true, against: 'pytorch-csv', within: true })
      const plan = readJson(path.join(dir, 'out', 'plan.json')).plan
      if (reads === 'categorical') {
        expect(plan.categorical.map((c: { column: number; count: number }) => [c.column, c.count])).toEqual([[0, 6], [1, 4]])
        // the contract declares BadCategory; a row out of range is refused in one line (off chain, before any call)
        expect(readFileSync(path.join(dir, 'out', 'Ml2sc_TabularNet.sol'), 'utf8')).toContain('error BadCategory(uint256 row, uint256 feature, int256 value)')
        const lines = readFileSync(path.join(dir, 'test.csv'), 'utf8').trim().split('\n')
        writeFileSync(path.join(dir, 'bad.csv'), [lines[0], lines[1], lines[2]!.replace(/^[^,]*,[^,]*,/, '2,4,')].join('\n') + '\n')
        const p = await runCliInProcess(['predict', 'ml2sc.yaml', '--input', 'bad.csv', '--json'], { cwd: dir })
        expect(p.code).toBe(0)
        const rows = JSON.parse(p.stdout).rows
        expect(rows[0].prediction).toBeDefined()
        expect(rows[1]).toEqual({ error: "row 1: feature 1 ('color_bin') = 4 is not a category index of embedding 'emb_b' (a whole number from 0 to 3)" })
        // a test set with such a row: run stops before the chain, in one line naming the file, row and feature
        writeFileSync(path.join(dir, 'test.csv'), [lines[0], lines[1], lines[2]!.replace(/^[^,]*,/, '9,'), ...lines.slice(3)].join('\n') + '\n')
        const bad = await runCliInProcess(['run', 'ml2sc.yaml', '--out', 'out2'], { cwd: dir })
        expect(bad.code).not.toBe(0)
        const errs = bad.stderr.split('\n').filter((l) => l.includes('ml2sc: error'))
        expect(errs).toEqual(["ml2sc: error: test.csv: row 1, feature 0: 9 is not a category index of embedding 'emb_a' (a whole number from 0 to 5) (hint: a categorical column holds whole indices from 0 to num_embeddings − 1)"])
        expect(bad.stderr).not.toContain('    at ')
      } else {
        const spans = plan.tensorLayers.filter((l: { spans?: unknown }) => l.spans).length
        expect(spans).toBe(2)
      }
    })
})

describe('norm models: init then run on a real anvil', () => {
  for (const [name, file, rows] of [
    ['ln_residual_wine', 'model.onnx', 40],
    ['norm_digits', 'model.state_dict.pt', 100],
  ] as const)
    test(`${name} (${file}): runs unedited; chain = simulator; within the tolerance of PyTorch`, async () => {
      const dir = mkdtempSync(path.join(tmpdir(), `ml2sc-norm-${name}-`))
      const files = file === 'model.onnx' ? [file, 'test.csv', 'reference.csv'] : [file, 'model.py', 'test.csv', 'reference.csv']
      for (const f of files) copyFileSync(path.join(GRAPH, name, f), path.join(dir, f))
      const init = await runCliInProcess(['init', file, '--data', 'test.csv'], { cwd: dir })
      expect(init.stderr).not.toContain('ml2sc: error')
      expect(init.code).toBe(0)
      const run = await runCliInProcess(['run', 'ml2sc.yaml'], { cwd: dir })
      expect(run.stderr).not.toContain('ml2sc: error')
      expect(run.code).toBe(0)
      expect(run.stdout + run.stderr).toContain('simulator mismatches 0')
      const report = JSON.parse(readFileSync(path.join(dir, 'out', 'report.json'), 'utf8'))
      expect(report.fidelity).toMatchObject({ enforced: true, against: 'pytorch-csv', within: true, rows })
      expect(report.accuracy.agreement).toBe(1)
      // the plan carries the norms: a layer_norm on a join (LN model) or in a layer's seq (GroupNorm model)
      const plan = readFileSync(path.join(dir, 'out', 'plan.json'), 'utf8')
      expect(plan).toContain('"layer_norm"')
      if (name === 'norm_digits') expect(plan).toContain('"affine"')
      console.log(`${name} (${file}): one predict ${report.gas.predictSingle} gas, per row ${report.gas.inference.perRow}, max error ${report.error.maxAbs}, weights int${8 * JSON.parse(plan).plan.weightBytes}`)
    }, 300_000)
})

test('residual CNN from model.py + state_dict: init, run unedited; chain = simulator, PyTorch\'s classes', async () => {
  const { report, rows, torch, dir } = await convGraphRun(path.join(FIXTURES, 'convgraph', 'residual_digits'), ['model.state_dict.pt', 'model.py'], 'model.state_dict.pt')
  expect(report.model.format).toBe('state_dict-pt')
  expect(report.model.tensorLayers.map((l: { kind: string }) => l.kind)).toEqual(['conv', 'conv', 'conv', 'add', 'conv', 'conv', 'add', 'maxpool'])
  expect(rows).toHaveLength(torch.length)
  // inspect names what each join reads, and the downsample conv that reads the block's output
  const inspect = await runCliInProcess(['inspect', 'ml2sc.yaml'], { cwd: dir })
  expect(inspect.code).toBe(0)
  expect(inspect.stdout).toContain('add1         add (block.conv2 + stem)')
  expect(inspect.stdout).toContain('down         conv2d (of add1)')
  expect(inspect.stdout).toContain('add2         add (conv3 + down)')
})

test('concat CNN from ONNX: init, run unedited; chain = simulator, PyTorch\'s classes', async () => {
  const { report, rows, torch } = await convGraphRun(path.join(FIXTURES, 'convgraph', 'concat_digits'), ['model.onnx'], 'model.onnx')
  expect(report.model.format).toBe('onnx')
  expect(report.model.tensorLayers.map((l: { kind: string }) => l.kind)).toEqual(['conv', 'conv', 'conv', 'concat', 'maxpool'])
  expect(rows).toHaveLength(torch.length)
})

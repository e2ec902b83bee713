// Embedding models (embed_wine, ts_embed_wide) from TorchScript and ONNX: one file (one bun process and module
// load) for what were two, torchscript-embedding and onnx-embedding-wide, each test as it was there.
//
// Issue 19: nn.Embedding of input columns from TorchScript (trace and script, no model.py) and from a whole
// pickled .pt read with model.source. The embed_wine model (the bench's embedding row) saved by real PyTorch in
// those formats, and ts_embed_wide, one table looked up for two columns (`emb(x[:, :2].to(torch.int64))
// .flatten(1)`): scripts/make-torchscript-graph-fixtures.py. The float pass equals PyTorch's outputs; a row
// whose category is out of range is refused; embed_wine's trace runs on anvil from `init` unedited.
//
// Issue 19: one nn.Embedding table looked up over two columns, exported to ONNX by real PyTorch
// (ts_embed_wide/model.onnx, scripts/make-torchscript-graph-fixtures.py `embed-onnx`): Slice x[:, 0:2] → Cast →
// Gather(emb.weight, ·) → Flatten(axis 1) → Concat with x[:, 2:]. ONNX reads it to the model the model.py
// reader reads, weight for weight; the float pass equals PyTorch; a Reshape to [N, −1] reads alike; a lookup
// left unflattened is refused naming the node; and one run on anvil from `init` unedited equals the simulator.
import { describe, expect, test } from 'bun:test'
import path from 'node:path'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { inputPartCall } from '../../src/model/pt/inputParts.ts'
import type { Node } from '../../src/model/pt/moduleTree.ts'
import type { ClassCode } from '../../src/model/pt/torchscriptCode.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { pytorchOutputs, worstErrors } from '../helpers/pytorchOutputs.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { featureRows, fixtureProject } from '../helpers/fixtureProject.ts'
import { onnxRoot, type OModel } from '../../src/model/onnx/proto.ts'

const EMBED = path.join(FIXTURES, 'layers', 'embed_wine')
const WIDE = path.join(FIXTURES, 'graph', 'ts_embed_wide')
const rowsOf = (dir: string) => featureRows(dir, 13)

describe('nn.Embedding from TorchScript and a whole .pt', () => {
  for (const [dir, file, withSource, cats] of [
    [EMBED, 'model.trace.pt', false, [[0, 6, 'emb_a'], [1, 4, 'emb_b']]],
    [EMBED, 'model.script.pt', false, [[0, 6, 'emb_a'], [1, 4, 'emb_b']]],
    [EMBED, 'model.whole.pt', true, [[0, 6, 'emb_a'], [1, 4, 'emb_b']]],
    [WIDE, 'trace.pt', false, [[0, 6, 'emb'], [1, 6, 'emb']]],
    [WIDE, 'script.pt', false, [[0, 6, 'emb'], [1, 6, 'emb']]],
    // the module-source reader reads the same lookup of two columns, flattened
    [WIDE, 'model.state_dict.pt', true, [[0, 6, 'emb'], [1, 6, 'emb']]],
  ] as const)
    test(`${path.basename(dir)}/${file}: the categorical columns read; float = PyTorch within 1e-5, fixed within 1e-4; a bad category refused`, async () => {
      const model = await loadModel({ path: path.join(dir, file), ...(withSource ? { source: path.join(dir, 'model.py') } : {}) } as Parameters<typeof loadModel>[0])
      expect(model.format).toBe(file === 'model.state_dict.pt' ? 'state_dict-pt' : withSource ? 'whole-model-pt' : 'torchscript')
      expect(model.categorical!.map((c) => [c.column, c.count, c.name])).toEqual(cats.map((c) => [...c]))
      const rows = rowsOf(dir)
      const torch = pytorchOutputs(dir)
      expect(rows.length).toBe(40)
      const worst = worstErrors(model, rows, torch)
      expect(worst.widths).toEqual(rows.map(() => 3))
      expect(worst.float).toBeLessThan(1e-5)
      expect(worst.fixed).toBeLessThan(1e-4)
      // category 6 of a 6-row table (or 4 of emb_b's 4): the float pass and the simulator refuse it
      const bad = [...rows[0]!]
      bad[1] = cats[1][1]
      expect(() => referenceForward(model, bad)).toThrow(`feature 1: ${cats[1][1]} is not a category index of embedding '${cats[1][2]}'`)
      const plan = makePlan(model, { fraction: 20, weightBytes: 4, inputBytes: 4 })
      expect(() => simulate(plan, bad.map((v) => BigInt(Math.round(v * 2 ** 20))))).toThrow(/BadCategory/)
    })

  test('what the lookup cannot be is refused in one line: max_norm, an open slice, a column as a feature, a whole .pt without model.source', async () => {
    // a whole pickled custom module does not say how forward() uses its embeddings
    const whole = await loadModel({ path: path.join(EMBED, 'model.whole.pt') } as Parameters<typeof loadModel>[0]).catch((e: Error) => e)
    expect((whole as Error).message).toContain("'TabularNet' is a custom nn.Module: the pickle holds its submodules (emb_a: Embedding, emb_b: Embedding, fc1: Linear, out: Linear)")
    // the interpreter's steps on TorchScript values, as forwardInterpreter.ts calls them
    const fail = (w: string) => new Error(w)
    const emb = { short: 'Embedding', path: 'emb' } as Node
    const input = { k: 'tensor', steps: [], input: true as const }
    const call = (name: string | undefined, args: unknown[], raw: unknown[], code?: ClassCode) =>
      inputPartCall(name, name ? undefined : { node: emb, method: 'forward' }, args as never, raw, () => code, fail)
    const col = call('torch.to', [call('torch.select', [input], [0, 1, 0])], [0, 4])!
    expect(col).toEqual({ k: 'part', part: { cols: { from: 0, to: 1, single: true } }, index: true })
    expect(call(undefined, [col], [])).toEqual({ k: 'part', part: { embed: [{ kind: 'embedding', name: 'emb', column: 0 }] } })
    expect(() => call(undefined, [col], [], { finals: new Map([['max_norm', '1.']]) })).toThrow("nn.Embedding 'emb' has max_norm")
    const open = call('torch.to', [call('torch.slice', [input], [0, 1, 2, 2 ** 63])], [0, 4])
    expect(() => call(undefined, [open], [])).toThrow("nn.Embedding 'emb' of the open slice x[:, 2:] (give its end, x[:, 2:b])")
    // the index column itself concatenated as a number: refused (PyTorch would read the raw index)
    expect(() => call('torch.cat', [{ k: 'list', items: [call(undefined, [col], []), col] }], [0, 1])).toThrow('x[:, 0] cast to an integer used as a feature')
    // a lookup of two columns must be flattened before torch.cat
    const two = call(undefined, [call('torch.to', [call('torch.slice', [input], [0, 1, 0, 2])], [0, 4])], [])
    expect(() => call('torch.cat', [{ k: 'list', items: [two, input] }], [0, 1])).toThrow('flatten it')
    // model.py alike: the lookup of x[:, :2] concatenated without its flatten is refused, naming the line
    const wideSrc = readFileSync(path.join(WIDE, 'model.py'), 'utf8').replace('.flatten(1)', '')
    const tmp = mkdtempSync(path.join(tmpdir(), 'ml2sc-wide-'))
    writeFileSync(path.join(tmp, 'model.py'), wideSrc)
    const unflat = (await loadModel({ path: path.join(WIDE, 'model.state_dict.pt'), source: path.join(tmp, 'model.py') } as Parameters<typeof loadModel>[0]).catch((e: Error) => e)) as Error & { shortMessage: string; hint: string }
    expect(unflat.shortMessage).toBe("unsupported construct 'e' at model.py:17")
    expect(unflat.hint).toContain('.flatten(1)')
    expect(call('torch.flatten', [two], [0, 1])).toEqual({ k: 'part', part: { embed: [0, 1].map((column) => ({ kind: 'embedding', name: 'emb', column })) } })
  })

  test('embed_wine/model.trace.pt on anvil from `init` unedited: chain = simulator, within tolerance of PyTorch; a bad category gets its line', async () => {
    const dir = fixtureProject(EMBED, ['model.trace.pt', 'test.csv', 'reference.csv'], 'ml2sc-tsembed-')
    const init = await runCliInProcess(['init', 'model.trace.pt', '--data', 'test.csv'], { cwd: dir })
    expect(init.code, init.stderr).toBe(0)
    const run = await runCliInProcess(['run', 'ml2sc.yaml', '--quiet'], { cwd: dir })
    expect(run.code, run.stderr).toBe(0)
    const report = JSON.parse(readFileSync(path.join(dir, 'out', 'report.json'), 'utf8'))
    expect(report.fidelity).toMatchObject({ enforced: true, against: 'pytorch-csv', within: true })
    expect(report.simulator.mismatches).toBe(0)
    expect(report.simulator.rows).toBe(40)
    // the argmax as PyTorch's on every row but near-ties (the run's own tolerance check is above)
    expect(report.accuracy.agreement).toBeGreaterThanOrEqual(0.95)
    const plan = JSON.parse(readFileSync(path.join(dir, 'out', 'plan.json'), 'utf8')).plan
    expect(plan.categorical.map((c: { column: number; count: number }) => [c.column, c.count])).toEqual([[0, 6], [1, 4]])
    // a row whose category is out of range: one answer naming the row, the feature and the embedding
    const lines = readFileSync(path.join(dir, 'test.csv'), 'utf8').trim().split('\n')
    writeFileSync(path.join(dir, 'bad.csv'), [lines[0], lines[1], lines[2]!.replace(/^[^,]*,[^,]*,/, '2,4,')].join('\n') + '\n')
    const p = await runCliInProcess(['predict', 'ml2sc.yaml', '--input', 'bad.csv', '--json'], { cwd: dir })
    expect(p.code, p.stderr).toBe(0)
    const rows = JSON.parse(p.stdout).rows
    expect(rows[0].prediction).toBeDefined()
    expect(rows[1]).toEqual({ error: "row 1: feature 1 ('color_bin') = 4 is not a category index of embedding 'emb_b' (a whole number from 0 to 3)" })
  }, 600_000)
})

type Loaded = Awaited<ReturnType<typeof loadModel>>
const load = (p: Parameters<typeof loadModel>[0]) => loadModel(p)
const withoutNames = (m: Loaded) => JSON.stringify(m.layers.map((l) => ({ ...l, name: undefined })))

/**
 * model.onnx with its Flatten changed: taken out (the Concat reads the [N, 2, 3] lookup itself), or made a
 * Reshape to the constant shape `reshape` (as `e.reshape(n, -1)` exports with a known batch).
 */
function edited(reshape?: number[]): string {
  const T = onnxRoot().lookupType('onnx.ModelProto')
  const m = T.toObject(T.decode(readFileSync(path.join(WIDE, 'model.onnx')))) as OModel
  const nodes = m.graph!.node!
  const flat = nodes.findIndex((n) => n.op_type === 'Flatten')
  const [from, to] = [nodes[flat]!.input![0]!, nodes[flat]!.output![0]!]
  if (reshape) {
    m.graph!.initializer!.push({ name: 'wide_shape', dims: [2], data_type: 7, int64_data: reshape })
    nodes[flat] = { name: '/Reshape', op_type: 'Reshape', input: [from, 'wide_shape'], output: [to] }
  } else {
    nodes.splice(flat, 1)
    for (const n of nodes) n.input = n.input?.map((i) => (i === to ? from : i))
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-wide-onnx-'))
  writeFileSync(path.join(dir, 'model.onnx'), T.encode(T.fromObject(m)).finish())
  return path.join(dir, 'model.onnx')
}

describe('ONNX: one nn.Embedding over two columns, flattened', () => {
  test('reads to the model.py reader\'s model, weight for weight; float = PyTorch within 1e-5; unflattened refused', async () => {
    const onnx = await load({ path: path.join(WIDE, 'model.onnx') } as Parameters<typeof loadModel>[0])
    const source = await load({ path: path.join(WIDE, 'model.state_dict.pt'), source: path.join(WIDE, 'model.py') } as Parameters<typeof loadModel>[0])
    expect(onnx.format).toBe('onnx')
    expect(onnx.categorical!.map((c) => [c.column, c.count, c.name])).toEqual([[0, 6, 'emb'], [1, 6, 'emb']])
    expect(onnx.categorical).toEqual(source.categorical)
    expect(onnx.inputSize).toBe(13)
    expect(onnx.layers.length).toBe(source.layers.length)
    expect(withoutNames(onnx)).toBe(withoutNames(source))
    const rows = featureRows(WIDE, 13)
    const worst = worstErrors(onnx, rows, pytorchOutputs(WIDE))
    expect(worst.float).toBeLessThan(1e-5)
    expect(worst.fixed).toBeLessThan(1e-4)
    const err = (await load({ path: edited() } as Parameters<typeof loadModel>[0]).catch((e: Error) => e)) as Error
    expect(err.message).toContain("lookup of several columns is [N, columns, dim]: flatten it (e.flatten(1)) before torch.cat")
    // a Reshape to [N, −1] or [N, 6] lays the lookups side by side as Flatten does; [N, 3, 2] is refused
    for (const shape of [[0, -1], [-1, 6]]) expect(withoutNames(await load({ path: edited(shape) } as Parameters<typeof loadModel>[0]))).toBe(withoutNames(source))
    const odd = (await load({ path: edited([-1, 3]) } as Parameters<typeof loadModel>[0]).catch((e: Error) => e)) as Error
    expect(odd.message).toContain("only its flatten to [N, columns × dim] is read")
  })

  test('model.onnx on anvil from `init` unedited: chain = simulator, within tolerance of PyTorch', async () => {
    const dir = fixtureProject(WIDE, ['model.onnx', 'test.csv', 'reference.csv'], 'ml2sc-wide-onnx-run-')
    const init = await runCliInProcess(['init', 'model.onnx', '--data', 'test.csv'], { cwd: dir })
    expect(init.code, init.stderr).toBe(0)
    const run = await runCliInProcess(['run', 'ml2sc.yaml', '--quiet'], { cwd: dir })
    expect(run.code, run.stderr).toBe(0)
    const report = JSON.parse(readFileSync(path.join(dir, 'out', 'report.json'), 'utf8'))
    expect(report.simulator).toMatchObject({ rows: 40, mismatches: 0 })
    expect(report.fidelity).toMatchObject({ enforced: true, against: 'pytorch-csv', within: true })
    const plan = JSON.parse(readFileSync(path.join(dir, 'out', 'plan.json'), 'utf8')).plan
    expect(plan.categorical.map((c: { column: number; count: number }) => [c.column, c.count])).toEqual([[0, 6], [1, 6]])
  }, 600_000)
})

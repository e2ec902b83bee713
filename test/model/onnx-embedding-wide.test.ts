// Issue 19: one nn.Embedding table looked up over two columns, exported to ONNX by real PyTorch
// (ts_embed_wide/model.onnx, scripts/make-torchscript-graph-fixtures.py `embed-onnx`): Slice x[:, 0:2] → Cast →
// Gather(emb.weight, ·) → Flatten(axis 1) → Concat with x[:, 2:]. ONNX reads it to the model the model.py
// reader reads, weight for weight; the float pass equals PyTorch; a Reshape to [N, −1] reads alike; a lookup
// left unflattened is refused naming the node; and one run on anvil from `init` unedited equals the simulator.
import { describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { loadModel } from '../../src/model/loadModel.ts'
import { onnxRoot, type OModel } from '../../src/model/onnx/proto.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { pytorchOutputs, worstErrors } from '../helpers/pytorchOutputs.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { featureRows, fixtureProject } from '../helpers/fixtureProject.ts'

const WIDE = path.join(FIXTURES, 'graph', 'ts_embed_wide')
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

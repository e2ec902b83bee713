// Issue 14's acceptance, on chain: every fixture CNN (2-D digits 8×8, the MNIST-shaped 28×28, 1-D signal,
// depthwise+BatchNorm), in EVERY format PyTorch wrote it in, gives PyTorch's class on every test row, and
// the contract equals the simulator on every row (predictBatch and predict).
import { describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { readAllRows } from '../../src/data/readCsv.ts'
import { encodeRow, interpret } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { taskOf } from '../../src/ir/taskOf.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import type { ModelSpec } from '../../src/model/types.ts'
import { deployCnn } from '../helpers/deployCnn.ts'
import { FIXTURES, ROOT } from '../helpers/paths.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { pytorchOutputs } from '../helpers/pytorchOutputs.ts'

const MODELS = ['cnn_digits8', 'cnn_mnist28', 'cnn_signal1d', 'cnn_depthwise']
type Meta = { class: string; task: 'multiclass'; inputShape: number[] }

/** Every way the fixture script saved the model; the weights-only ones get the source and the input shape. */
function specs(dir: string, meta: Meta): [string, ModelSpec][] {
  const f = (n: string) => path.join(dir, n)
  const src = { source: f('model.py'), class: meta.class, inputShape: meta.inputShape }
  return [
    ['onnx', { path: f('model.onnx') }],
    ['state_dict .pt + source', { path: f('model.state_dict.pt'), ...src }],
    ['whole-model .pt', { path: f('model.whole.pt'), ...src }],
    ['TorchScript trace', { path: f('model.trace.pt'), inputShape: meta.inputShape }],
    ['TorchScript script', { path: f('model.script.pt'), ...src }],
    ['safetensors + source', { path: f('model.safetensors'), ...src }],
    ['JSON state_dict + source', { path: f('weights.json'), ...src }],
  ]
}

let s: ChainSession
fileChain((c) => (s = c))

describe('every fixture CNN, every format, on chain: PyTorch\'s class and the simulator on every row', () => {
  for (const name of MODELS) {
    test(name, async () => {
      const dir = path.join(FIXTURES, name)
      const meta: Meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8'))
      const torch = pytorchOutputs(dir)
      const data = await readAllRows(path.join(dir, 'test.csv'), { label: 'label' })
      // int24 weights: what precision `auto` picks for these models (int16 loses classes on the MNIST-shaped one)
      const precision = { fraction: 20, weightBytes: 3, inputBytes: 4 }
      // formats that quantise to the same weights share one contract; each distinct blob gets its own
      const byBlob = new Map<string, { formats: string[]; plan: ReturnType<typeof makePlan>; model: Awaited<ReturnType<typeof loadModel>> }>()
      for (const [format, spec] of specs(dir, meta)) {
        const model = await loadModel(spec)
        expect(model.tensorLayers?.length, format).toBeGreaterThan(0)
        const plan = makePlan(model, precision)
        const key = Buffer.from(encodeWeights(plan)).toString('hex')
        const e = byBlob.get(key) ?? { formats: [], plan, model }
        e.formats.push(format)
        byBlob.set(key, e)
      }
      for (const { formats, plan, model } of byBlob.values()) {
        const what = `${name} (${formats.join(', ')})`
        const task = taskOf(model)
        const c = await deployCnn(s, plan, 'F')
        const rows = data.features.map((f) => (encodeRow(plan, f) as { values: bigint[] }).values)
        // as many rows per transaction as fit well under the cap
        const perTx = Math.max(1, Math.floor(10_000_000 / Math.max(1, (await c.batch(rows.slice(0, 1))).tx.gasUsed)))
        const outputs: (readonly bigint[])[] = []
        for (let at = 0; at < rows.length; at += perTx) outputs.push(...(await c.batch(rows.slice(at, at + perTx))).outputs)
        expect(outputs.length).toBe(torch.length)
        outputs.forEach((raw, i) => {
          expect(raw.map(String), `${what} row ${i}: chain vs simulator`).toEqual(simulate(plan, rows[i]!).map(String))
          const t = torch[i]!
          expect(interpret(plan, task, [...raw]), `${what} row ${i}: class`).toBe(t.indexOf(Math.max(...t)))
        })
        for (const row of rows.slice(0, 3)) expect((await c.predict(row)).map(String)).toEqual(simulate(plan, row).map(String))
      }
    }, 900_000)
  }
})

describe('ml2sc run on a CNN', () => {
  test('examples/digits-cnn: exit 0, every on-chain class equals PyTorch, chain = simulator', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'ml2sc-cnn-'))
    const r = await runCliInProcess(['run', 'examples/digits-cnn/ml2sc.yaml', '--out', out, '--quiet'])
    expect(r.code, r.stderr).toBe(0)
    const csv = (f: string) => readFileSync(f, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','))
    const torch = csv(path.join(ROOT, 'examples/digits-cnn/reference.csv')).map((row) => row.slice(1).map(Number))
    const preds = csv(path.join(out, 'predictions.csv'))
    expect(preds.length).toBe(torch.length)
    preds.forEach((p, i) => expect(Number(p[2])).toBe(torch[i]!.indexOf(Math.max(...torch[i]!))))
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'))
    expect(report.accuracy.agreement).toBe(1)
    expect(report.simulator.mismatches).toBe(0)
    expect(report.simulator.rows).toBe(torch.length)
    expect(report.gas.predictSingle).toBeLessThan(400_000)
    // the deployed contract answers `predict` (eth_call) exactly as the simulator does, and verifies
    const input = path.join(ROOT, 'examples/digits-cnn/test.csv')
    const on = await runCliInProcess(['predict', 'examples/digits-cnn/ml2sc.yaml', '--input', input, '--json', '--out', out])
    const off = await runCliInProcess(['predict', 'examples/digits-cnn/ml2sc.yaml', '--input', input, '--json', '--offchain', '--out', out])
    expect(on.code, on.stderr).toBe(0)
    expect(JSON.parse(on.stdout).rows.length).toBe(torch.length)
    expect(on.stdout).toBe(off.stdout)
    const v = await runCliInProcess(['verify', 'examples/digits-cnn/ml2sc.yaml', '--out', out])
    expect(v.code, v.stderr).toBe(0)
  }, 900_000)
})

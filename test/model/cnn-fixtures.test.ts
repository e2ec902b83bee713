// Issue 14: every fixture CNN (trained by real PyTorch, scripts/cnn_fixtures.py), in every format, loads
// to the same IR; the float forward pass equals PyTorch's reference.csv (≤ 1e-5) and the fixed-point
// simulator gives PyTorch's class on every test row.
import { describe, expect, test } from 'bun:test'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { encodeRow } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import type { ModelIR } from '../../src/ir/types.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import type { ModelSpec } from '../../src/model/types.ts'
import { planFromJson, planToJson } from '../../src/pipeline/planJson.ts'
import { FIXTURES, ROOT, runCli } from '../helpers/paths.ts'
import { readCsv } from './helpers.ts'

const NAMES = ['cnn_digits8', 'cnn_mnist28', 'cnn_depthwise', 'cnn_signal1d']
/** Formats that carry the architecture, and weights-only ones read with model.source + model.class. */
// model.class.*: model.py's own class (forward() with F.max_pool2d, x.view, … in TorchScript's code/); its
// whole-model pickle holds no call order, so it takes model.source like the weights-only files
const WITH_ARCH = ['model.onnx', 'model.whole.pt', 'model.trace.pt', 'model.script.pt', 'model.class.trace.pt', 'model.class.script.pt']
const WEIGHTS_ONLY = ['model.state_dict.pt', 'model.safetensors', 'weights.json', 'model.class.whole.pt']
export const CNN_FILES = [...WITH_ARCH, ...WEIGHTS_ONLY]

type Meta = { class: string; inputShape: number[]; testRows: number; outputs: number }
const meta = (name: string): Meta => JSON.parse(readFileSync(path.join(FIXTURES, name, 'meta.json'), 'utf8'))

export function cnnSpec(name: string, file: string): ModelSpec {
  const dir = path.join(FIXTURES, name)
  const m = meta(name)
  const spec: ModelSpec = { path: path.join(dir, file) }
  if (file !== 'model.onnx') spec.inputShape = m.inputShape
  if (WEIGHTS_ONLY.includes(file)) Object.assign(spec, { source: path.join(dir, 'model.py'), class: m.class })
  return spec
}

/**
 * The IR without names, format and weights: what must agree exactly across formats. The weights agree to
 * float32 rounding (ONNX export folds BatchNorm into the conv in float32; ml2sc folds it in float64).
 */
function structure(ir: ModelIR) {
  return {
    inputShape: ir.inputShape,
    tensorLayers: ir.tensorLayers!.map(({ name: _n, weight: _w, bias: _b, ...l }: any) => l),
    layers: ir.layers.map((l) => ({ activation: l.activation, out: l.weight.length, in: l.weight[0]!.length })),
    weights: [...ir.tensorLayers!.flatMap((l) => (l.kind === 'conv' ? [...l.weight, ...l.bias] : [])), ...ir.layers.flatMap((l) => [...l.weight.flat(), ...l.bias])],
  }
}

function expectSameModel(a: ReturnType<typeof structure>, b: ReturnType<typeof structure>) {
  const { weights: wa, ...sa } = a
  const { weights: wb, ...sb } = b
  expect(sa).toEqual(sb)
  expect(wa.length).toBe(wb.length)
  const worst = Math.max(...wa.map((w, i) => Math.abs(w - wb[i]!) / Math.max(1, Math.abs(w))))
  expect(worst).toBeLessThan(1e-6)
}

for (const name of NAMES) {
  describe(name, () => {
    // no existence guard: a missing fixture fails here (reading its CSVs) instead of dropping its tests
    test('the fixture is there', () => expect(existsSync(path.join(FIXTURES, name, 'model.onnx'))).toBe(true))
    const rows = readCsv(path.join(FIXTURES, name, 'test.csv')).rows.map((r) => r.slice(0, -1))
    const ref = readCsv(path.join(FIXTURES, name, 'reference.csv')).rows.map((r) => r.slice(1))
    let first: ReturnType<typeof structure> | undefined
    test.each(CNN_FILES)('%s: loads, and its float forward pass is PyTorch (≤ 1e-5)', async (file) => {
      const ir = await loadModel(cnnSpec(name, file))
      expect(ir.inputShape).toEqual(meta(name).inputShape)
      const s = structure(ir)
      if (first) expectSameModel(s, first)
      else first = s
      let worst = 0
      rows.forEach((x, r) => {
        const y = referenceForward(ir, x)
        worst = Math.max(worst, ...y.map((v, i) => Math.abs(v - ref[r]![i]!)))
      })
      expect(worst).toBeLessThanOrEqual(1e-5)
    })
    test("the simulator gives PyTorch's class on every test row (default precision, 2^20, int16 weights)", async () => {
      const ir = await loadModel(cnnSpec(name, 'model.onnx'))
      const plan = makePlan(ir, { fraction: 20, weightBytes: 2, inputBytes: 4 })
      // plan.json keeps the conv/pool plans (bigints as strings) and gives the same plan back
      expect(planFromJson(JSON.parse(JSON.stringify(planToJson(plan))))).toEqual(plan)
      rows.forEach((x, r) => {
        const enc = encodeRow(plan, x)
        if (!enc.ok) throw new Error(enc.error)
        const out = simulate(plan, enc.values)
        const want = ref[r]!.indexOf(Math.max(...ref[r]!))
        const got = out.indexOf(out.reduce((a, b) => (a > b ? a : b)))
        expect(got, `row ${r}`).toBe(want)
      })
    })
  })
}

test('a custom nn.Module pickled whole: one line asking for model.source', async () => {
  const spec = { path: path.join(FIXTURES, 'cnn_mnist28/model.class.whole.pt'), inputShape: [1, 28, 28] }
  await expect(loadModel(spec)).rejects.toThrow(/'MnistCNN' is a custom nn.Module: the pickle holds its submodules \(conv1: Conv2d, conv2: Conv2d, fc: Linear\) but not the order/)
})

test("examples/digits-cnn: `predict --offchain` gives PyTorch's class on every test row", async () => {
  const dir = path.join(ROOT, 'examples/digits-cnn')
  const r = await runCli(['predict', path.join(dir, 'ml2sc.yaml'), '--input', path.join(dir, 'test.csv'), '--offchain', '--json'])
  expect(r.stderr).toBe('')
  const rows = JSON.parse(r.stdout).rows as { prediction: number }[]
  const ref = readCsv(path.join(dir, 'reference.csv')).rows.map((row) => row.slice(1))
  expect(rows.map((x) => x.prediction)).toEqual(ref.map((y) => y.indexOf(Math.max(...y))))
})

// Issue 19 (norms), off chain: the plan's interval analysis through norms, standalone BatchNorm and
// activations on joins is sound (random and extreme in-range rows never exceed a layer's proven accumulator
// or output bound, nor the bound of what a join's post op gives), and the fixed-point forward pass stays
// near the float reference on the PyTorch fixtures (the LayerNorm op's own error, half an ulp + 1e-12, is
// measured in layerNorm.test.ts).
import { describe, expect, test } from 'bun:test'
import path from 'node:path'
import { readAllRows } from '../../src/data/readCsv.ts'
import { encodeRow } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import { simulate, simulateLayers } from '../../src/fixed/simulate.ts'
import { inputAsValue } from '../../src/fixed/inputAsValue.ts'
import { pinOf, type Plan, type PrecisionSpec } from '../../src/fixed/types.ts'
import { joinInput } from '../../src/ir/layerInput.ts'
import { opOf, paramOf } from '../../src/ir/ops/index.ts'
import type { Activation, ModelIR } from '../../src/ir/types.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { edgeRows, KINDS, makeRow } from '../helpers/fuzzRows.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { rng } from '../helpers/rng.ts'
import { A, graph } from '../helpers/syntheticModels.ts'

const GRAPH = path.join(FIXTURES, 'graph')
const source = (name: string) => loadModel({ path: path.join(GRAPH, name, 'model.state_dict.pt'), source: path.join(GRAPH, name, 'model.py') })
const abs = (v: bigint) => (v < 0n ? -v : v)

/** Every layer's accumulator and output of one row against the plan's proven bounds; false at the first excess. */
function withinBounds(plan: Plan, row: bigint[]): string | undefined {
  const trace = simulateLayers(plan, row)
  const c = { scale: plan.scale, slopeBits: plan.slopeBits }
  const values = [inputAsValue(plan, row), ...trace]
  for (const [l, layer] of plan.layers.entries()) {
    const x = l === 0 ? row : joinInput(layer.input, l, values, (a, b) => a + b, (v, a: Activation) => opOf(a).fixed(v, a, paramOf(a, c), c))
    for (const [j, w] of layer.weights.entries()) {
      const acc = w.reduce((s, wi, i) => s + wi * x[i]!, layer.biases[j]!)
      if (abs(acc) > layer.accMax) return `layer ${l} '${layer.name}' accumulator ${acc} > ${layer.accMax}`
      if (abs(trace[l]![j]!) > layer.outMax[j]!) return `layer ${l} '${layer.name}' output ${j} = ${trace[l]![j]} > ${layer.outMax[j]}`
    }
  }
  return undefined
}

const r0 = rng(23)
const vec = (n: number, lo: number, hi: number) => Array.from({ length: n }, () => lo + (hi - lo) * r0())
const CASES: { name: string; model: () => Promise<ModelIR> | ModelIR; p: PrecisionSpec }[] = [
  { name: 'ln_residual_wine', model: () => source('ln_residual_wine'), p: { fraction: 20, weightBytes: 2, inputBytes: 4 } },
  { name: 'norm_digits', model: () => source('norm_digits'), p: { fraction: 16, weightBytes: 2, inputBytes: 2 } },
  {
    name: 'random graph: LN(γ, β) on a sum, standalone BatchNorm on a concat then tanh, GroupNorm → relu',
    model: () =>
      graph(r0, 5, [
        [5, 8, { kind: 'seq', ops: [{ kind: 'layer_norm', size: 8, groups: 2, eps: 1e-5, gamma: vec(8, -2, 2), beta: vec(8, -1, 1) }, A.relu] }],
        [8, 8, A.identity],
        [8, 4, A.tanh, { op: 'add', values: [1, 2], post: { kind: 'layer_norm', size: 8, groups: 1, eps: 1e-6, gamma: vec(8, -3, 3), beta: vec(8, -2, 2) } }],
        [12, 3, A.identity, { op: 'concat', values: [1, 3], post: { kind: 'seq', ops: [{ kind: 'affine', scale: vec(12, -5, 5), shift: vec(12, -3, 3) }, A.tanh] } }],
      ]),
    p: { fraction: 20, weightBytes: 2, inputBytes: 4 },
  },
]

describe('interval analysis through norms and joins', () => {
  for (const c of CASES)
    test(`${c.name}: 3,000 random and extreme in-range rows stay within every proven bound`, async () => {
      const plan = makePlan(await c.model(), c.p)
      const r = rng(7)
      let rows = 0
      for (let k = 0; k < 3000; k++) {
        const enc = encodeRow(plan, makeRow(r, plan, KINDS[k % KINDS.length]!, 6))
        if (!enc.ok) continue
        expect(withinBounds(plan, enc.values)).toBeUndefined()
        rows++
      }
      for (const row of edgeRows(r, plan)) expect(withinBounds(plan, row)).toBeUndefined()
      expect(rows).toBeGreaterThan(2000)
    }, 300_000)
})

describe('fixed point against the float reference on the PyTorch fixtures', () => {
  test('ln_residual_wine and norm_digits at int32 weights, 2^20: the simulator within 1e-4 of the float pass (figures printed; the LayerNorm op itself adds half an ulp)', async () => {
    for (const name of ['ln_residual_wine', 'norm_digits']) {
      const model = await source(name)
      const plan = makePlan(model, { fraction: 20, weightBytes: 4, inputBytes: 4 })
      const rows = (await readAllRows(path.join(GRAPH, name, 'test.csv'), { label: 'label' })).features
      let worst = 0
      for (const x of rows) {
        const enc = encodeRow(plan, x)
        expect(enc.ok).toBe(true)
        if (!enc.ok) continue
        const ref = referenceForward(model, x)
        simulate(plan, enc.values).forEach((v, j) => (worst = Math.max(worst, Math.abs(Number(v) / 2 ** 20 - ref[j]!))))
      }
      console.log(`${name}: fixed (int32 weights, 2^20) vs float, max abs error over ${rows.length} rows ${worst.toExponential(3)}`)
      expect(worst).toBeLessThan(1e-4)
    }
  })
})

describe('a deployed model pins the norm constants its code holds', () => {
  test('new weights with another GroupNorm γ (on chain in the code) are refused; the same constants are accepted', async () => {
    const model = await source('norm_digits')
    const P = { fraction: 16, weightBytes: 2, inputBytes: 2 }
    const pin = pinOf(makePlan(model, P))
    expect(() => makePlan(model, P, pin)).not.toThrow()
    const other: ModelIR = JSON.parse(JSON.stringify(model))
    const act = other.layers[1]!.activation
    if (act.kind !== 'seq' || act.ops[1]!.kind !== 'affine') throw new Error('expected GroupNorm then its γ/β')
    act.ops[1]!.scale[0]! *= 1.5
    expect(() => makePlan(other, P, pin)).toThrow('other norm constants')
  })
})

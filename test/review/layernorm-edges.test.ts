// Adversarial review (branch norms): LayerNorm / GroupNorm's isqrt and one DIV per group on chain, applied
// straight to the input (a concat of the input with a norm after it) where the caller controls every value:
// zero-variance rows (all features equal: 0, the max, the min, any), rows one unit away from constant (the
// smallest non-zero variance: the largest reciprocal), alternating extremes; ε = 1e-5 and ε = 0 (W = 0: DIV by
// zero); inputs at the widest width the plan accepts, and inputs at their own scale finer and coarser than
// the activations. On a real anvil: chain = simulator bit for bit; off chain: twin ≈ the float reference.
import { describe, expect, test } from 'bun:test'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import type { Plan, PrecisionSpec } from '../../src/fixed/types.ts'
import type { Activation, ModelIR } from '../../src/ir/types.ts'
import { deployCnn } from '../helpers/deployCnn.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { rng } from '../helpers/rng.ts'
import { A, graph } from '../helpers/syntheticModels.ts'

let s: ChainSession
fileChain((c) => (s = c))

const r0 = rng(77)
const vec = (n: number, lo: number, hi: number) => Array.from({ length: n }, () => lo + (hi - lo) * r0())
const LN = (n: number, eps: number, affine: boolean, groups = 1): Activation => ({ kind: 'layer_norm', size: n, groups, eps, ...(affine ? { gamma: vec(n, -1.5, 2), beta: vec(n, -1, 1) } : {}) })
/** An identity Linear (exact in fixed point) with the norm as its activation, so the norm sees the caller's values, then a dense head. */
const onInput = (n: number, norm: Activation): ModelIR => {
  const head = graph(r0, n, [[n, 3, A.identity]]).layers[0]!
  const eye = Array.from({ length: n }, (_, j) => Array.from({ length: n }, (_, i) => (i === j ? 1 : 0)))
  return { format: 'synthetic', inputSize: n, layers: [{ name: 'eye', weight: eye, bias: new Array<number>(n).fill(0), activation: norm }, head] }
}

function rows(plan: Plan, seed: number): bigint[][] {
  const { inputMin: lo, inputMax: hi, inputSize: n } = plan
  const r = rng(seed)
  const S = 1n << BigInt(plan.inputFraction ?? plan.F)
  const out: bigint[][] = []
  // zero variance
  for (const v of [0n, hi, lo, S, -S, 1n, -1n, 12345n]) out.push(new Array<bigint>(n).fill(v < lo ? lo : v))
  // one unit away from constant, at the extremes and at zero
  for (const [v, d] of [[0n, 1n], [hi - 1n, 1n], [lo + 1n, -1n], [hi, -1n], [lo, 1n], [S, 1n]] as const) {
    const row = new Array<bigint>(n).fill(v)
    row[Math.floor(r() * n)] = v + d
    out.push(row)
  }
  out.push(Array.from({ length: n }, (_, i) => (i % 2 ? hi : lo)))
  out.push(Array.from({ length: n }, (_, i) => (i === 0 ? hi : lo)))
  out.push(Array.from({ length: n }, (_, i) => (i === 0 ? lo : hi)))
  for (let k = 0; k < 5; k++) out.push(Array.from({ length: n }, () => (r() < 0.5 ? lo : hi)))
  return out
}

/** The widest input width (bytes) the plan accepts for this model. */
function widest(model: ModelIR, p: Omit<PrecisionSpec, 'inputBytes'>): number {
  let ok = 0
  for (let ib = 1; ib <= 31; ib++) {
    try {
      makePlan(model, { ...p, inputBytes: ib })
      ok = ib
    } catch {
      break
    }
  }
  return ok
}

const CASES: { name: string; model: ModelIR; p: Omit<PrecisionSpec, 'inputBytes'> }[] = [
  { name: 'LayerNorm(6), ε 1e-5, no affine', model: onInput(6, LN(6, 1e-5, false)), p: { fraction: 20, weightBytes: 2 } },
  { name: 'LayerNorm(6), ε 0 (a constant row divides by zero)', model: onInput(6, LN(6, 0, false)), p: { fraction: 20, weightBytes: 2 } },
  { name: 'LayerNorm(5) with γ, β, inputs at 2^8 (coarser than 2^20)', model: onInput(5, LN(5, 1e-5, true)), p: { fraction: 20, weightBytes: 2, inputFraction: 8 } },
  { name: 'GroupNorm(8, 2 groups), inputs at 2^30 (finer than 2^16)', model: onInput(8, LN(8, 1e-5, true, 2)), p: { fraction: 16, weightBytes: 2, inputFraction: 30 } },
]

describe('review: LayerNorm on chain at its edges', () => {
  CASES.forEach((c, i) =>
    test(`${c.name}: chain = simulator on zero-variance, one-unit and extreme rows at the widest accepted inputs and at int32`, async () => {
      const wide = widest(c.model, c.p)
      expect(wide).toBeGreaterThanOrEqual(4)
      for (const ib of [...new Set([4, wide])]) {
        const plan = makePlan(c.model, { ...c.p, inputBytes: ib })
        const x = rows(plan, 9 + i)
        const { outputs } = await (await deployCnn(s, plan, `LnEdge${i}_${ib}`)).batch(x)
        const bad = x.flatMap((row, k) => (outputs[k]!.map(String).join() === simulate(plan, row).map(String).join() ? [] : [k]))
        expect({ ib, bad }).toEqual({ ib, bad: [] })
        console.log(`${c.name}: int${8 * ib} inputs, ${x.length} edge rows, chain = simulator`)
      }
    }, 300_000),
  )

  test('twin ≈ PyTorch\'s formula on rows one unit from constant and on constant rows (ε = 1e-5)', () => {
    const model = CASES[0]!.model
    const plan = makePlan(model, { ...CASES[0]!.p, inputBytes: 4 })
    let worst = 0
    for (const row of rows(plan, 3).slice(0, 14)) {
      const f = referenceForward(model, row.map((v) => Number(v) / 2 ** 20))
      const q = simulate(plan, row)
      f.forEach((v, k) => (worst = Math.max(worst, Math.abs(Number(q[k]!) / 2 ** 20 - v))))
    }
    console.log(`LayerNorm edge rows: twin vs float, worst ${worst.toExponential(2)}`)
    expect(worst).toBeLessThan(1e-4)
  })

  // Latent (readers refuse such a model today: 'the first Linear reads relu(cat(the input, the input))',
  // 'LayerNorm comes before any Linear layer'): makePlan, the simulator and the kernel read layers[0] from x
  // and ignore layers[0].input (its join and its post op), while the float reference applies them.
  test('a first layer whose input has a post op (LN on the input) is refused by makePlan, not silently run without it (fixed: makePlan refuses it)', () => {
    const model = graph(r0, 6, [[6, 3, A.identity, { op: 'concat', values: [0], post: LN(6, 1e-5, false) }]])
    expect(() => makePlan(model, { fraction: 20, weightBytes: 2, inputBytes: 4 })).toThrow()
  })
})

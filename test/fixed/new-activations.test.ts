// The activations added to the op registry (src/ir/ops/): each op's fixed-point twin against its float
// reference, swept over the whole input range at the default scale 2^20 (every ulp in [-1/32, 1/32], every 127th
// ulp in [-8, 8], every 2039th in [-60, 60], and large values up to the op's overflow check), asserting the stated
// bound (≤ 1e-6) and the op's own approximation error (measured at 2^64, where rounding is negligible).
// GELU's float reference and its erf are checked against Python's math.erf (test/fixtures/ops/erf.csv,
// scripts/make-erf-table.py). The chain computes exactly these twins (test/fuzz/differential.test.ts).
import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { Activation } from '../../src/ir/activation.ts'
import { erf } from '../../src/ir/ops/erf.ts'
import { geluFloat } from '../../src/ir/ops/gelu.ts'
import { opOf } from '../../src/ir/ops/index.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { rng } from '../helpers/rng.ts'

const F = 20
const S = 2 ** F
const SCALE = 1n << BigInt(F)
const BOUND = 1e-6

/** Sorted fixed-point inputs at 2^F (and the same points at 2^64 for the approximation alone). */
function sweep(): bigint[] {
  const pts = new Set<bigint>()
  for (let y = -(S >> 5); y <= S >> 5; y++) pts.add(BigInt(y))
  for (let y = -8 * S; y <= 8 * S; y += 127) pts.add(BigInt(y))
  for (let y = -60 * S; y <= 60 * S; y += 2039) pts.add(BigInt(y))
  for (let e = 26n; e <= 120n; e++) for (const d of [-1n, 0n, 1n]) (pts.add((1n << e) + d), pts.add(-(1n << e) - d))
  return [...pts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}
const POINTS = sweep()

const CASES: { a: Activation; monotone: boolean }[] = [
  { a: { kind: 'hardtanh', min: 0, max: 6 }, monotone: true }, // ReLU6
  { a: { kind: 'hardtanh', min: -1, max: 1 }, monotone: true },
  { a: { kind: 'hardtanh', min: -0.3, max: 2.7 }, monotone: true }, // bounds not representable at 2^20
  { a: { kind: 'hardsigmoid' }, monotone: true },
  { a: { kind: 'hardswish' }, monotone: false },
  { a: { kind: 'elu', alpha: 1 }, monotone: true },
  { a: { kind: 'elu', alpha: 0.25 }, monotone: true },
  { a: { kind: 'silu' }, monotone: false },
  { a: { kind: 'gelu', approximate: 'none' }, monotone: false },
  { a: { kind: 'gelu', approximate: 'tanh' }, monotone: false },
  { a: { kind: 'softplus', threshold: 20 }, monotone: true },
  { a: { kind: 'softplus', threshold: 5 }, monotone: false }, // PyTorch's jump at the threshold
  { a: { kind: 'mish' }, monotone: false },
]
const name = (a: Activation) => JSON.stringify(a)

/** Max abs error of the twin against the float reference over `pts` at `scale` (2^f). */
function worst(a: Activation, pts: bigint[], f: number): { max: number; at: number; outs: bigint[] } {
  const op = opOf(a)
  const scale = 1n << BigInt(f)
  const c = { scale, slopeBits: f }
  const q = op.param?.(a, c) ?? 0n
  const outs = op.fixed(pts, a, q, c)
  const ref = op.float(pts.map((p) => Number(p) / 2 ** f), a)
  let max = 0
  let at = 0
  outs.forEach((v, i) => {
    const x = Number(pts[i]!) / 2 ** f
    const e = Math.abs(Number(v) / 2 ** f - ref[i]!)
    // far from 0 an output's float value has an ulp above 1e-6 itself: compare relative there
    const err = Math.abs(ref[i]!) > 2 ** 30 ? e / Math.abs(ref[i]!) : e
    if (err > max) (max = err), (at = x)
  })
  return { max, at, outs }
}

describe('new activations at 2^20: max abs error ≤ 1e-6 (half an ulp + the approximation)', () => {
  const figures: string[] = []
  for (const { a, monotone } of CASES)
    test(name(a), () => {
      const { max, at, outs } = worst(a, POINTS, F)
      figures.push(`${name(a)} ${max.toExponential(3)} at ${at}`)
      console.log(`${name(a)}: max abs error ${max.toExponential(3)} (at x = ${at})`)
      expect(max).toBeLessThanOrEqual(BOUND)
      expect(max).toBeLessThanOrEqual(0.5 / S + (opOf(a).error ?? 0) * (a.kind === 'elu' ? a.alpha : 1) + 1e-11)
      // the first point where a monotone op's output falls (one expect, not one per point: ~260k of them)
      if (monotone) expect(outs.findIndex((v, i) => i > 0 && v < outs[i - 1]!), 'first decreasing output').toBe(-1)
    }, 120_000)
})

describe('the approximation alone, at 2^64: within each op\'s stated error', () => {
  for (const { a } of CASES.filter((c) => opOf(c.a).error !== undefined))
    test(name(a), () => {
      const pts: bigint[] = []
      for (let x = -40; x <= 40; x += 0.001831) pts.push(BigInt(Math.round(x * 2 ** 20)) << 44n)
      const { max } = worst(a, pts, 64)
      console.log(`${name(a)}: approximation error ${max.toExponential(3)}`)
      expect(max).toBeLessThanOrEqual(opOf(a).error! * (a.kind === 'elu' ? Math.max(a.alpha, 1) : 1))
    }, 120_000)
})

describe('log_softmax over vectors', () => {
  test('≤ 1e-6 against the float log-softmax; the argmax is the logits\'; outputs ≤ 0', () => {
    const op = opOf({ kind: 'log_softmax' })
    const r = rng(19)
    let max = 0
    const bad: string[] = []
    for (let i = 0; i < 20_000; i++) {
      const n = 2 + Math.floor(r() * 9)
      const z = Array.from({ length: n }, () => BigInt(Math.round((r() * 2 - 1) * (r() < 0.2 ? 200 : 20) * S)))
      const out = op.fixed(z, { kind: 'log_softmax' }, 0n, { scale: SCALE, slopeBits: F })
      const ref = op.float(z.map((v) => Number(v) / S), { kind: 'log_softmax' })
      out.forEach((v, j) => (max = Math.max(max, Math.abs(Number(v) / S - ref[j]!))))
      const arg = (xs: bigint[]) => xs.indexOf(xs.reduce((m, v) => (v > m ? v : m)))
      if (arg(out) !== arg(z)) bad.push(`argmax moved for [${z.join(', ')}]`)
      if (!out.every((v) => v <= 0n)) bad.push(`an output above 0 for [${z.join(', ')}]`)
    }
    expect(bad).toEqual([])
    console.log(`log_softmax: max abs error ${max.toExponential(3)}`)
    expect(max).toBeLessThanOrEqual(0.5 / S + opOf({ kind: 'log_softmax' }).error! + 1e-11)
  }, 120_000)
})

describe("GELU's float reference against Python's math.erf", () => {
  const rows = readFileSync(path.join(FIXTURES, 'ops', 'erf.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number))
  test('erf to 1e-14, GELU (both forms) to 1e-12, over [-8, 8]', () => {
    expect(rows.length).toBe(1025)
    for (const [x, e, g, gt] of rows) {
      expect(Math.abs(erf(x!) - e!)).toBeLessThan(1e-14)
      expect(Math.abs(geluFloat(x!, false) - g!)).toBeLessThan(1e-12)
      expect(Math.abs(geluFloat(x!, true) - gt!)).toBeLessThan(1e-12)
    }
  })
  test("the fixed-point GELU (erf form) against Python's values: ≤ 1e-6", () => {
    const op = opOf({ kind: 'gelu', approximate: 'none' })
    const xs = rows.map((r) => BigInt(Math.round(r[0]! * S)))
    const out = op.fixed(xs, { kind: 'gelu', approximate: 'none' }, 0n, { scale: SCALE, slopeBits: F })
    const max = Math.max(...out.map((v, i) => Math.abs(Number(v) / S - rows[i]![2]!)))
    expect(max).toBeLessThanOrEqual(BOUND)
  })
})

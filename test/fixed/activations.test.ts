// The fixed-point activations against the float functions: sweeps over the whole input range at the default
// scale (2^20) assert the documented bound (≤ 1e-6; measured: half an ulp 4.77e-7 plus ≤ 1.4e-8 from exp),
// plus property tests.
// The contract computes exactly these functions (test/fuzz/differential.test.ts checks that on chain).
import { describe, expect, test } from 'bun:test'
import {
  APPROXIMATION_ERROR,
  activationErrors,
  EXP_CLAMP_UNITS,
  ONE64,
  expNeg,
  leakyReluFixed,
  reluFixed,
  sigmoidFixed,
  softmaxFixed,
  tanhFixed,
} from '../../src/fixed/activations.ts'
import { quantize } from '../../src/fixed/makePlan.ts'
import { rng } from '../helpers/rng.ts'

const F = 20
const SCALE = 1n << BigInt(F)
const S = 2 ** F
const ULP = 1 / S
const BOUND = 1e-6
/** exp's own relative error (table + degree-3 polynomial): sigmoid gets at most a quarter of it, tanh half. */
const EXP_REL = 2.7e-8
/** Rounding to nearest at the end: half an ulp, plus what exp's error does to tanh (≤ EXP_REL / 2) and float noise. */
const HALF_ULP = ULP / 2 + EXP_REL / 2 + 1e-11


/**
 * Activation inputs (fixed point at 2^F) covering the whole range, in increasing order: every ulp in
 * [-1/32, 1/32], every 127th ulp in [-8, 8], every 1021st in [-60, 60], then the clamp region (around the
 * 50·2^F clamp, powers of two up to 2^254, and the int256 extremes).
 */
function sweepPoints(): bigint[] {
  const pts = new Set<bigint>()
  for (let y = -(S >> 5); y <= S >> 5; y++) pts.add(BigInt(y))
  for (let y = -8 * S; y <= 8 * S; y += 127) pts.add(BigInt(y))
  for (let y = -60 * S; y <= 60 * S; y += 1021) pts.add(BigInt(y))
  const clamp = EXP_CLAMP_UNITS << BigInt(F)
  for (let k = -100n; k <= 100n; k++) for (const c of [clamp, clamp / 2n]) (pts.add(c + k), pts.add(-c - k))
  for (let e = 26n; e <= 254n; e++) for (const d of [-1n, 0n, 1n]) (pts.add((1n << e) + d), pts.add(-(1n << e) - d))
  pts.add((1n << 255n) - 1n)
  pts.add(-(1n << 255n))
  return [...pts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}
const POINTS = sweepPoints()
const real = (y: bigint, f = F) => Number(y) / 2 ** f
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x))

describe('sweeps at the default scale 2^20 (max abs error ≤ 1e-6)', () => {
  test('sigmoid: ≤ half an ulp everywhere, monotone, saturates cleanly', () => {
    let max = 0
    let prev = -1n
    // the first point where the output falls (POINTS is sorted): one expect, not one per point
    let falls: bigint | undefined
    for (const y of POINTS) {
      const s = sigmoidFixed(y, SCALE)
      max = Math.max(max, Math.abs(real(s) - sigmoid(real(y))))
      if (s < prev && falls === undefined) falls = y
      prev = s
    }
    expect(falls, 'first decreasing output').toBeUndefined()
    expect(max).toBeLessThanOrEqual(BOUND)
    expect(max).toBeLessThanOrEqual(HALF_ULP)
    expect(sigmoidFixed(0n, SCALE)).toBe(1n << BigInt(F - 1))
    expect(sigmoidFixed(-(1n << 255n), SCALE)).toBe(0n)
    expect(sigmoidFixed((1n << 255n) - 1n, SCALE)).toBe(1n << BigInt(F))
  })

  test('tanh: ≤ half an ulp everywhere, monotone, odd', () => {
    let max = 0
    let prev = -(2n << BigInt(F))
    let falls: bigint | undefined
    let notOdd: bigint | undefined
    for (const y of POINTS) {
      const t = tanhFixed(y, SCALE)
      max = Math.max(max, Math.abs(real(t) - Math.tanh(real(y))))
      if (t < prev && falls === undefined) falls = y
      if (tanhFixed(-y, SCALE) !== -t && notOdd === undefined) notOdd = y
      prev = t
    }
    expect(falls, 'first decreasing output').toBeUndefined()
    expect(notOdd, 'first y with tanh(-y) ≠ -tanh(y)').toBeUndefined()
    expect(max).toBeLessThanOrEqual(BOUND)
    expect(max).toBeLessThanOrEqual(HALF_ULP)
    expect(tanhFixed(0n, SCALE)).toBe(0n)
  })

  test('softmax of two: ≤ half an ulp over [-60, 60] and the clamp region', () => {
    let max = 0
    const pts = POINTS.filter((_, i) => i % 3 === 0)
    for (const y of pts) {
      const [a, b] = softmaxFixed([y, 0n], SCALE)
      const z = real(y)
      // softmax([z, 0]) = [sigmoid(z), sigmoid(-z)]
      max = Math.max(max, Math.abs(real(a!) - sigmoid(z)), Math.abs(real(b!) - sigmoid(-z)))
    }
    expect(max).toBeLessThanOrEqual(BOUND)
    expect(max).toBeLessThanOrEqual(HALF_ULP)
  })

  test('exp (expNeg, at 2^64): relative error ≤ 2.7e-8 over [0, 60], monotone across every table step', () => {
    let max = 0
    let maxAt = 0
    let outside: bigint | undefined
    const check = (x: bigint) => {
      const e = expNeg(x, SCALE)
      if (!(e >= 0n && e <= ONE64) && outside === undefined) outside = x
      const want = Math.exp(-Number(x) / S)
      // relative where 2^64 holds the value to 1e-12 (e ≥ 2^-24); absolute (scaled alike) below
      const err = want > 2 ** -24 ? Math.abs(Number(e) / 2 ** 64 / want - 1) : Math.abs(Number(e) / 2 ** 64 - want) * 2 ** 24
      if (err > max) (max = err), (maxAt = Number(x) / S)
    }
    for (let y = 0n; y <= 60n * BigInt(S); y += 257n) check(y)
    const r = rng(7)
    for (let i = 0; i < 50_000; i++) check(BigInt(Math.floor(r() * 40 * S)))
    expect(outside, 'first x with expNeg outside [0, 2^64]').toBeUndefined()
    // at every eighth of a bit: the last value of a table step is never below the first of the next
    let rises: bigint | undefined
    for (let q = 1; q < 8 * 72; q++) {
      const at = BigInt(Math.round((q / 8) * Math.LN2 * S))
      let prev = expNeg(at - 300n, SCALE)
      for (let d = -299n; d <= 300n; d++) {
        const e = expNeg(at + d, SCALE)
        if (e > prev && rises === undefined) rises = at + d
        prev = e
      }
    }
    expect(rises, 'first x where expNeg rises').toBeUndefined()
    expect(expNeg(0n, SCALE)).toBe(ONE64)
    expect(expNeg(50n * SCALE, SCALE)).toBe(0n)
    expect(expNeg(1n << 200n, SCALE)).toBe(0n)
    expect(max, `worst at x = ${maxAt}`).toBeLessThanOrEqual(EXP_REL)
  }, 900_000)
})

describe('the approximation alone (at 2^64, where rounding is negligible): APPROXIMATION_ERROR', () => {
  test('sigmoid, tanh and softmax over [-40, 40] stay within the figures the report prints', () => {
    const F64 = 64
    const SC = 1n << 64n
    const worst = { sigmoid: 0, tanh: 0, softmax: 0 }
    for (let x = -40; x <= 40; x += 0.000913) {
      const y = BigInt(Math.round(x * 2 ** 20)) << BigInt(F64 - 20)
      const xf = Number(y) / 2 ** F64
      worst.sigmoid = Math.max(worst.sigmoid, Math.abs(Number(sigmoidFixed(y, SC)) / 2 ** F64 - sigmoid(xf)))
      worst.tanh = Math.max(worst.tanh, Math.abs(Number(tanhFixed(y, SC)) / 2 ** F64 - Math.tanh(xf)))
      worst.softmax = Math.max(worst.softmax, Math.abs(Number(softmaxFixed([y, 0n], SC)[0]!) / 2 ** F64 - sigmoid(xf)))
    }
    console.log(`approximation error: sigmoid ${worst.sigmoid.toExponential(3)}, tanh ${worst.tanh.toExponential(3)}, softmax ${worst.softmax.toExponential(3)}`)
    for (const k of ['sigmoid', 'tanh', 'softmax'] as const) expect(worst[k]).toBeLessThanOrEqual(APPROXIMATION_ERROR[k])
    expect(activationErrors(['relu', 'sigmoid'], SCALE)).toEqual({ sigmoid: 0.5 / S + APPROXIMATION_ERROR.sigmoid })
  }, 900_000)
})

describe('properties', () => {
  const r = rng(2024)
  /** Random fixed-point values: mostly within ±64, some anywhere in int64. */
  const randomY = () => (r() < 0.9 ? BigInt(Math.round((r() * 2 - 1) * 64 * S)) : BigInt(Math.round((r() * 2 - 1) * 2 ** 52)) << BigInt(Math.floor(r() * 12)))

  test('sigmoid(x) + sigmoid(-x) = 2^F exactly', () => {
    let first: bigint | undefined
    for (let i = 0; i < 20_000; i++) {
      const y = randomY()
      if (sigmoidFixed(y, SCALE) + sigmoidFixed(-y, SCALE) !== 1n << BigInt(F) && first === undefined) first = y
    }
    expect(first, 'first y with sigmoid(y) + sigmoid(-y) ≠ 2^F').toBeUndefined()
  })

  test('sigmoid and tanh are monotone on random sorted inputs', () => {
    const ys = Array.from({ length: 20_000 }, randomY).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    const falls: string[] = []
    for (let i = 1; i < ys.length; i++) {
      if (sigmoidFixed(ys[i]!, SCALE) < sigmoidFixed(ys[i - 1]!, SCALE)) falls.push(`sigmoid at ${ys[i]}`)
      if (tanhFixed(ys[i]!, SCALE) < tanhFixed(ys[i - 1]!, SCALE)) falls.push(`tanh at ${ys[i]}`)
    }
    expect(falls).toEqual([])
  })

  test('softmax: sums to 2^F within n/2 ulps, ≤ half an ulp per entry, shift invariant, argmax kept', () => {
    let max = 0
    for (let i = 0; i < 3_000; i++) {
      const n = 2 + Math.floor(r() * 12)
      const spread = [1, 8, 40, 100][i % 4]!
      const z = Array.from({ length: n }, () => BigInt(Math.round((r() * 2 - 1) * spread * S)))
      const p = softmaxFixed(z, SCALE)
      const sum = p.reduce((a, b) => a + b, 0n)
      const dev = Number(sum - (1n << BigInt(F)))
      expect(Math.abs(dev)).toBeLessThanOrEqual(n / 2)
      const zf = z.map((v) => real(v))
      const m = Math.max(...zf)
      const e = zf.map((v) => Math.exp(v - m))
      const s = e.reduce((a, b) => a + b, 0)
      p.forEach((v, j) => (max = Math.max(max, Math.abs(real(v) - e[j]! / s))))
      // adding a constant to every logit changes nothing: only differences reach exp
      const shift = BigInt(Math.round((r() * 2 - 1) * 1000 * S))
      expect(softmaxFixed(z.map((v) => v + shift), SCALE)).toEqual(p)
      // the largest logit gets the largest probability
      const top = z.indexOf(z.reduce((a, b) => (b > a ? b : a)))
      expect(p.every((v) => v <= p[top]!)).toBe(true)
    }
    expect(max).toBeLessThanOrEqual(HALF_ULP)
  })

  test('other scales: sigmoid, tanh and softmax stay within half an ulp (+ exp error) from 2^8 to 2^64', () => {
    for (const f of [8, 12, 16, 24, 32, 40, 48, 56, 64]) {
      const half = 2 ** -(f + 1) + EXP_REL / 2 + 1e-12
      let max = 0
      for (let i = 0; i < 2_000; i++) {
        const x = (r() * 2 - 1) * 40
        const y = quantize(x, f)
        const xf = real(y, f)
        max = Math.max(max, Math.abs(real(sigmoidFixed(y, 1n << BigInt(f)), f) - sigmoid(xf)), Math.abs(real(tanhFixed(y, 1n << BigInt(f)), f) - Math.tanh(xf)))
        const [a] = softmaxFixed([y, 0n, -y], 1n << BigInt(f))
        const den = Math.exp(xf - Math.max(xf, 0, -xf)) + Math.exp(-Math.max(xf, 0, -xf)) + Math.exp(-xf - Math.max(xf, 0, -xf))
        max = Math.max(max, Math.abs(real(a!, f) - Math.exp(xf - Math.max(xf, 0, -xf)) / den))
      }
      expect(max).toBeLessThanOrEqual(half)
    }
  })

  test('relu and leaky relu are exact: relu = max(0, y); leaky = floor(y · round(slope·2^F) / 2^F)', () => {
    for (let i = 0; i < 5_000; i++) {
      const y = randomY()
      expect(reluFixed(y)).toBe(y < 0n ? 0n : y)
      const slope = [0.01, 0.1, 0.2, 0.5][i % 4]!
      const q = quantize(slope, F)
      const l = leakyReluFixed(y, q, F)
      if (y >= 0n) expect(l).toBe(y)
      else {
        // floor: l ≤ y·q/2^F < l + 1, exactly
        expect(l * (1n << BigInt(F)) <= y * q).toBe(true)
        expect((l + 1n) * (1n << BigInt(F)) > y * q).toBe(true)
        // and within an ulp (+ the slope's own rounding) of the float function
        expect(Math.abs(real(l) - slope * real(y))).toBeLessThanOrEqual(ULP + Math.abs(real(y)) * 2 ** -(F + 1))
      }
    }
  })
})

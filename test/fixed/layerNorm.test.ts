// The LayerNorm / GroupNorm primitive (src/ir/ops/layerNorm.ts) and the per-feature affine (affine.ts): the
// integer square root against an exact one, the fixed-point twin against the float reference on the same
// fixed-point inputs (the error stated in the op's file and the README), the interval rule (random and
// extreme inputs never exceed it) and the overflow check. The chain runs the Yul twin: layer-norm-yul.test.ts.
import { describe, expect, test } from 'bun:test'
import { affineBound, affineFixed, affineFloat, affineParams } from '../../src/ir/ops/affine.ts'
import { opOf } from '../../src/ir/ops/index.ts'
import { isqrt } from '../../src/ir/ops/isqrt.ts'
import { epsAtScale2, layerNormBound, layerNormCheck, layerNormFixed, layerNormFloat } from '../../src/ir/ops/layerNorm.ts'
import { rng } from '../helpers/rng.ts'

/** An exact floor square root (Newton from above), independent of the contract's steps. */
function exactSqrt(x: bigint): bigint {
  if (x < 2n) return x
  let z = 1n << BigInt(Math.ceil(x.toString(2).length / 2))
  for (;;) {
    const y = (z + x / z) >> 1n
    if (y >= z) return z
    z = y
  }
}

const randBig = (r: () => number, bits: number): bigint => {
  let v = 0n
  for (let b = 0; b < bits; b += 24) v = (v << 24n) | BigInt(Math.floor(r() * 2 ** 24))
  return v & ((1n << BigInt(bits)) - 1n)
}

describe('isqrt (the contract steps, Solady sqrt)', () => {
  test('equals the exact floor root: 0..4096, squares ± 1, random values of every bit length up to 256', () => {
    for (let x = 0n; x <= 4096n; x++) expect(isqrt(x)).toBe(exactSqrt(x))
    const r = rng(7)
    for (let bits = 1; bits <= 256; bits++)
      for (let k = 0; k < 40; k++) {
        const x = randBig(r, bits)
        expect(isqrt(x)).toBe(exactSqrt(x))
        const s = x >> BigInt(Math.ceil(bits / 2))
        for (const d of [-1n, 0n, 1n]) if (s * s + d >= 0n && s * s + d < 1n << 256n) expect(isqrt(s * s + d)).toBe(exactSqrt(s * s + d))
      }
    expect(isqrt((1n << 256n) - 1n)).toBe((1n << 128n) - 1n)
  })
})

const F = 20
const S = 1n << BigInt(F)
const ULP = 2 ** -F

/** Random vectors at 2^F: mixed magnitudes, near-constant groups (var ≈ ε), one outlier, large values. */
function vectors(seed: number, count: number): { y: bigint[]; groups: number; eps: number }[] {
  const r = rng(seed)
  const out: { y: bigint[]; groups: number; eps: number }[] = []
  for (let k = 0; k < count; k++) {
    const groups = [1, 1, 2, 4][k % 4]!
    const g = 1 + Math.floor(r() * 24)
    const n = g * groups
    const kind = k % 5
    const mag = [1, 0.001, 30, 1e4, 1][kind]!
    const y = Array.from({ length: n }, (_, i) => {
      if (kind === 4) return i === 0 ? 50n * S : S / 2n
      return BigInt(Math.round((2 * r() - 1) * mag * Number(S)))
    })
    out.push({ y, groups, eps: [1e-5, 1e-6, 1e-3, 0.1][k % 4]! })
  }
  return out
}

describe('LayerNorm / GroupNorm fixed-point twin at 2^20', () => {
  test('within half an ulp + 1e-12 of the float reference on the same inputs (max measured printed)', () => {
    let worst = 0
    for (const { y, groups, eps } of vectors(11, 3000)) {
      const got = layerNormFixed(y, groups, epsAtScale2(eps, S), S)
      const ref = layerNormFloat(y.map((v) => Number(v) * ULP), groups, eps)
      got.forEach((v, i) => (worst = Math.max(worst, Math.abs(Number(v) * ULP - ref[i]!))))
    }
    console.log(`LayerNorm at 2^20: max abs error ${worst.toExponential(4)} (half an ulp = ${(ULP / 2).toExponential(4)})`)
    expect(worst).toBeLessThanOrEqual(ULP / 2 + 1e-12)
  })

  test('the approximation alone (at 2^64) is within 1e-12, the error the op states', () => {
    const S64 = 1n << 64n
    let worst = 0
    for (const { y, groups, eps } of vectors(12, 600)) {
      const y64 = y.map((v) => v << 44n)
      const got = layerNormFixed(y64, groups, epsAtScale2(eps, S64), S64)
      const ref = layerNormFloat(y.map((v) => Number(v) * ULP), groups, eps)
      got.forEach((v, i) => (worst = Math.max(worst, Math.abs(Number(v) / 2 ** 64 - ref[i]!))))
    }
    console.log(`LayerNorm at 2^64: max abs error ${worst.toExponential(4)}`)
    expect(worst).toBeLessThanOrEqual(opOf({ kind: 'layer_norm', size: 1, groups: 1, eps: 1e-5 }).error!)
  })

  test('shift invariant and the output sums to ~0 per group; a constant group gives 0', () => {
    const y = [3n * S, -S, 7n * S, 0n, S / 3n]
    const E = epsAtScale2(1e-5, S)
    const a = layerNormFixed(y, 1, E, S)
    expect(layerNormFixed(y.map((v) => v + 12345n * S), 1, E, S)).toEqual(a)
    const sum = a.reduce((p, q) => p + q, 0n)
    expect(sum < 5n && sum > -5n).toBe(true)
    expect(layerNormFixed([5n * S, 5n * S, 5n * S], 1, E, S)).toEqual([0n, 0n, 0n])
    // ε = 0 and a constant group: the EVM's DIV by zero gives 0, and so does the twin
    expect(layerNormFixed([S, S], 1, 0n, S)).toEqual([0n, 0n])
  })

  test('interval rule: no output exceeds the bound (random inputs and the √(g−1) extreme)', () => {
    for (const { y, groups, eps } of vectors(13, 3000)) {
      const b = layerNormBound(y.length / groups, S)
      for (const v of layerNormFixed(y, groups, epsAtScale2(eps, S), S)) expect(v <= b && v >= -b).toBe(true)
    }
    for (const g of [2, 3, 16, 64]) {
      const y = Array.from({ length: g }, (_, i) => (i === 0 ? 1000n * S : 0n))
      const out = layerNormFixed(y, 1, epsAtScale2(1e-12, S), S)
      const b = layerNormBound(g, S)
      expect(out[0]! <= b).toBe(true)
      // the bound is tight: the outlier reaches √(g − 1) within 1e-5 relative
      expect(Number(out[0]!) / Number(S)).toBeCloseTo(Math.sqrt(g - 1), 4)
    }
  })

  test('overflow check: passes realistic ranges, refuses inputs that could overflow, and passing inputs stay in 256 bits', () => {
    const E = epsAtScale2(1e-5, S)
    expect(layerNormCheck(1n << 60n, 64, E, S)).toBeUndefined()
    expect(layerNormCheck(1n << 100n, 64, E, S)).toMatch(/overflow/)
    // the largest passing p: every intermediate of the contract's words is below 2^255
    let p = 1n << 60n
    while (layerNormCheck(p << 1n, 64, E, S) === undefined) p <<= 1n
    const y = Array.from({ length: 64 }, (_, i) => (i === 0 ? p : -p))
    const t = y.reduce((a, b) => a + b, 0n)
    const w = 64n * y.reduce((a, b) => a + b * b, 0n) - t * t + 64n * 64n * E
    expect((w << 64n).toString(2).length).toBeLessThan(256)
    expect(layerNormFixed(y, 1, E, S).every((v) => v <= layerNormBound(64, S))).toBe(true)
  })
})

describe('per-feature affine (a norm\'s γ, β; a standalone BatchNorm)', () => {
  test('within half an ulp + |x|·2^-41 of the float reference; bound holds', () => {
    const r = rng(5)
    let worst = 0
    for (let k = 0; k < 500; k++) {
      const n = 1 + Math.floor(r() * 16)
      const scale = Array.from({ length: n }, () => (2 * r() - 1) * 5)
      const shift = Array.from({ length: n }, () => (2 * r() - 1) * 3)
      const q = affineParams(scale, shift, S)
      const y = Array.from({ length: n }, () => BigInt(Math.round((2 * r() - 1) * 20 * Number(S))))
      const got = affineFixed(y, q)
      // the float reference on the quantised parameters: only the final rounding remains
      const ref = affineFloat(y.map((v) => Number(v) * ULP), scale, shift)
      got.forEach((v, i) => (worst = Math.max(worst, Math.abs(Number(v) * ULP - ref[i]!) - 20 * 2 ** -41)))
      const b = affineBound(20n * S, q)
      for (const v of got) expect(v <= b && v >= -b).toBe(true)
    }
    console.log(`affine at 2^20: max abs error beyond the scale's quantisation ${worst.toExponential(4)}`)
    expect(worst).toBeLessThanOrEqual(ULP)
  })
})

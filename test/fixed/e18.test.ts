// The 1e18 arithmetic the client library performs (src/fixed/e18.ts), in TypeScript: the rounding, the
// exact safe range, and the exact decimal reading of a float.
import { expect, test } from 'bun:test'
import { applyRatio, decodeOutputsE18, E18, encodeRowE18, featureRangeE18, inputRatio, ratio, toE18 } from '../../src/fixed/e18.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { randomMlp } from '../helpers/randomMlp.ts'

test('toE18 reads the float as its decimal text, exactly, rounding at the 18th decimal half away from zero', () => {
  expect(toE18(1.5)).toBe(1_500_000_000_000_000_000n)
  expect(toE18(-0.455672115087509160)).toBe(-455_672_115_087_509_160n)
  expect(toE18(1e-7)).toBe(100_000_000_000n)
  expect(toE18(-2.5e-18)).toBe(-3n)
  expect(toE18(1.5e21)).toBe(1_500_000_000_000_000_000_000_000_000_000_000_000_000n)
  expect(toE18(0)).toBe(0n)
  expect(() => toE18(Number.NaN)).toThrow()
})

test('applyRatio rounds to nearest, half away from zero, like sdiv(v·A ± ⌊B/2⌋, B)', () => {
  const r = ratio(1n, 4n) // v/4
  expect([6n, 5n, 7n, -6n, -5n, -7n, 2n, -2n].map((v) => applyRatio(r, v))).toEqual([2n, 1n, 2n, -2n, -1n, -2n, 1n, -1n])
  const odd = ratio(1n, 3n) // no ties
  expect([4n, 5n, -4n, -5n].map((v) => applyRatio(odd, v))).toEqual([1n, 2n, -1n, -2n])
})

test('the safe range in 1e18 is exact for binary, decimal and unsigned encodings', () => {
  const plans = [
    makePlan(randomMlp([5, 3, 1], 1), { fraction: 20, weightBytes: 2, inputBytes: 3, inputFraction: 19 }),
    makePlan(randomMlp([5, 3, 1], 2), { fraction: 0, decimals: 6, weightBytes: 4, inputBytes: 4 }),
    makePlan(randomMlp([5, 3, 1], 3), { fraction: 16, weightBytes: 2, inputBytes: 2, inputFraction: 15, inputUnsigned: true }),
    makePlan(randomMlp([5, 3, 1], 4), { fraction: 20, weightBytes: 2, inputBytes: 4 }),
  ]
  for (const plan of plans) {
    const { min, max } = featureRangeE18(plan)
    const r = inputRatio(plan)
    expect(applyRatio(r, max)).toBeLessThanOrEqual(plan.inputMax)
    expect(applyRatio(r, max + 1n)).toBeGreaterThan(plan.inputMax)
    expect(applyRatio(r, min)).toBeGreaterThanOrEqual(plan.inputMin)
    expect(applyRatio(r, min - 1n)).toBeLessThan(plan.inputMin)
    const bad = encodeRowE18(plan, [0n, max + 1n, 0n, 0n, 0n])
    expect(bad).toEqual({ ok: false, index: 1, value: max + 1n, min, max })
  }
  // unsigned inputs: nothing below zero (a value that rounds to 0 is still accepted)
  expect(featureRangeE18(plans[2]!).min).toBeLessThanOrEqual(0n)
  expect(applyRatio(inputRatio(plans[2]!), featureRangeE18(plans[2]!).min)).toBe(0n)
})

test('outputs at 2^20 come back in 1e18 rounded to nearest', () => {
  const plan = makePlan(randomMlp([2, 1], 5), { fraction: 20, weightBytes: 2, inputBytes: 4 })
  expect(decodeOutputsE18(plan, [1n << 20n, -(1n << 19n), 1n, 0n])).toEqual([E18, -E18 / 2n, 953_674_316_406n, 0n])
})

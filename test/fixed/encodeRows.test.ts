import { describe, expect, test } from 'bun:test'
import { encodeRow, interpret, packRows, unpackOutputs } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import type { Activation, ModelIR } from '../../src/ir/types.ts'

const model = (activation: Activation, nOut = 1): ModelIR => ({
  format: 'synthetic',
  inputSize: 2,
  layers: [{ name: 'l', weight: Array.from({ length: nOut }, () => [0.5, -0.25]), bias: new Array(nOut).fill(0.1), activation }],
})
const plan32 = makePlan(model({ kind: 'identity' }), { fraction: 20, weightBytes: 2, inputBytes: 4 })
const ULP = 2 ** -20
const HI = (2 ** 31 - 1) * ULP
const LO = -(2 ** 31) * ULP

describe('encodeRow: the safe input range, refused never wrapped', () => {
  test('the edges are accepted, one step past them is refused', () => {
    expect(encodeRow(plan32, [HI, LO])).toEqual({ ok: true, values: [2n ** 31n - 1n, -(2n ** 31n)] })
    expect(encodeRow(plan32, [HI + ULP / 4, 0])).toEqual({ ok: true, values: [2n ** 31n - 1n, 0n] }) // rounds back in
    for (const x of [HI + ULP, HI + ULP / 2, LO - ULP, LO - ULP / 2, 2048, -2048.000001]) {
      const r = encodeRow(plan32, [0, x])
      expect(r.ok).toBe(false)
      expect((r as { error: string }).error).toContain('feature 1')
      expect((r as { error: string }).error).toContain('outside the safe input range [-2048, 2047.99')
    }
  })

  test('non-finite and huge values are refused with a message, never thrown or wrapped', () => {
    for (const x of [NaN, Infinity, -Infinity, 1e300, -1e300, Number.MAX_VALUE, 2 ** 80]) {
      const r = encodeRow(plan32, [x, 0], ['age', 'bmi'])
      expect(r.ok).toBe(false)
      expect((r as { error: string }).error).toMatch(/^feature 0 \('age'\)/)
    }
    const wide = makePlan(model({ kind: 'identity' }), { fraction: 64, weightBytes: 2, inputBytes: 16 })
    expect(encodeRow(wide, [1e300, 0]).ok).toBe(false)
    expect(encodeRow(wide, [2 ** 62, 0]).ok).toBe(true)
  })

  test('rounding is half away from zero, at the input scale', () => {
    expect(encodeRow(plan32, [ULP / 2, -ULP / 2])).toEqual({ ok: true, values: [1n, -1n] })
    expect(encodeRow(plan32, [ULP * 0.49, -ULP * 0.49])).toEqual({ ok: true, values: [0n, 0n] })
  })
})

describe('calldata and event payloads', () => {
  test('packRows / unpackOutputs: two’s complement, big-endian, every width', () => {
    for (const bytes of [1, 2, 4, 8]) {
      const p = makePlan(model({ kind: 'identity' }), { fraction: 4, weightBytes: 2, inputBytes: bytes })
      const max = p.inputMax
      const rows = [[max, p.inputMin], [0n, -1n], [1n, max - 1n]]
      const hex = packRows(p, rows)
      expect(hex.length).toBe(2 + rows.length * 2 * bytes * 2)
      // read back as the contract does: sign-extend each `bytes`-wide field
      const back = rows.map((_, r) => [0, 1].map((i) => BigInt.asIntN(8 * bytes, BigInt('0x' + hex.slice(2 + (r * 2 + i) * bytes * 2, 2 + (r * 2 + i + 1) * bytes * 2)))))
      expect(back).toEqual(rows)
    }
    const p = makePlan(model({ kind: 'identity' }, 3), { fraction: 20, weightBytes: 2, inputBytes: 4 })
    const w = p.outputBytes * 2
    const enc = (v: bigint) => BigInt.asUintN(8 * p.outputBytes, v).toString(16).padStart(w, '0')
    expect(unpackOutputs(p, `0x${[5n, -5n, 0n, -1n, 7n, 1n].map(enc).join('')}`)).toEqual([[5n, -5n, 0n], [-1n, 7n, 1n]])
  })

  test('interpret: argmax, sigmoid > 1/2, logit > 0, regression value', () => {
    const sig = makePlan(model({ kind: 'sigmoid' }), { fraction: 20, weightBytes: 2, inputBytes: 4 })
    expect(interpret(sig, 'binary', [1n << 19n])).toBe(0)
    expect(interpret(sig, 'binary', [(1n << 19n) + 1n])).toBe(1)
    expect(interpret(plan32, 'binary', [1n])).toBe(1)
    expect(interpret(plan32, 'binary', [0n])).toBe(0)
    expect(interpret(plan32, 'regression', [-(3n << 19n)])).toBe(-1.5)
    expect(interpret(plan32, 'multiclass', [3n, 9n, 9n, -1n])).toBe(1) // first of equal maxima
  })
})

// compactHex: a constant in the Yul form with the fewest code bytes, and the form always means the constant.
import { describe, expect, test } from 'bun:test'
import { compactHex } from '../../src/ir/ops/types.ts'

const M = (1n << 256n) - 1n
/** Evaluate the three forms compactHex writes (a literal, not(x), shl(k, x)) as the EVM does, mod 2^256. */
function evalYul(e: string): bigint {
  const not = /^not\((0x[0-9a-f]+)\)$/.exec(e)
  if (not) return ~BigInt(not[1]!) & M
  const shl = /^shl\((\d+), (0x[0-9a-f]+)\)$/.exec(e)
  if (shl) return (BigInt(shl[2]!) << BigInt(shl[1]!)) & M
  if (/^0x[0-9a-f]+$/.test(e)) return BigInt(e)
  throw new Error(`not a compactHex form: ${e}`)
}
/** Code bytes of a form: PUSHn (1 + n; PUSH0 for 0), NOT 1, SHL with its PUSH1 shift 3. */
function codeBytes(e: string): number {
  const push = (h: string) => 1 + (BigInt(h) === 0n ? 0 : Math.ceil(BigInt(h).toString(16).length / 2))
  const not = /^not\((0x[0-9a-f]+)\)$/.exec(e)
  if (not) return push(not[1]!) + 1
  const shl = /^shl\((\d+), (0x[0-9a-f]+)\)$/.exec(e)
  if (shl) return push(shl[2]!) + 3
  return push(e)
}

describe('compactHex', () => {
  test('negative numbers as not(x), powers of two as shl(k, x), short literals as they are', () => {
    expect(compactHex(-2001174003712n)).toBe('not(0x1d1ef43ffff)')
    expect(compactHex(1n << 64n)).toBe('shl(64, 0x1)')
    expect(compactHex(0x100001n)).toBe('0x100001')
    expect(compactHex(0n)).toBe('0x0')
    expect(compactHex(-1n)).toBe('not(0x0)')
    // a random-looking word stays a literal: no form is shorter
    expect(compactHex(0x7ffd21047fe7572d8060898880562def804cf457801233ed7fbbc03e8043eaffn)).toBe('0x7ffd21047fe7572d8060898880562def804cf457801233ed7fbbc03e8043eaff')
  })

  test('on 2,000 random constants: the form evaluates to the constant and is never longer than the literal', () => {
    let seed = 12345n
    const next = () => (seed = (seed * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n))
    for (let i = 0; i < 2000; i++) {
      const bits = Number(next() % 256n)
      let v = 0n
      for (let w = 0; w < 4; w++) v = (v << 64n) | next()
      v &= (1n << BigInt(bits)) - 1n
      if (i % 3 === 1) v <<= next() % 64n
      if (i % 2) v = -v
      const e = compactHex(v)
      expect(evalYul(e)).toBe(BigInt.asUintN(256, v))
      expect(codeBytes(e)).toBeLessThanOrEqual(codeBytes('0x' + BigInt.asUintN(256, v).toString(16)))
    }
  })
})

import { hex, type YulCtx, type YulHelper } from './types.ts'

/**
 * exp(-x) for x ≥ 0 in activation units, at 2^64, with no DIV: the kernel sigmoid, tanh, softmax and the
 * smooth activations share, in BigInt (expNeg) and in Yul (expNegYul), exactly alike.
 *
 * x is clamped to 50 units (e^-50 ≈ 2e-22 is 0 at 2^64), turned into base-2 units with one MUL and one SHR,
 * t = x·log2(e) at 2^64, and split as t = k + j/8 + g with k an integer, j in 0..7 and 0 ≤ g < 1/8. Then
 * e^-x = 2^-k · 2^-(j/8) · 2^-g: 2^-(j/8) from an 8-entry table of 32-bit values packed in one word
 * (EXP2_TABLE, at 2^31), 2^-g from a degree-3 polynomial with P(0) = 1 (Horner form, each step floors), and
 * 2^-k as a right shift. The polynomial is a minimax fit of the relative error on [0, 1/8]
 * (scripts/fit-exp2.py), constrained to err a little high at g = 1/8 so that every table step meets the next
 * one from above: exp is then monotone over the whole range. Largest relative error: 2.65e-8.
 */
export const ONE64 = 1n << 64n
/** |x| beyond this many activation units is saturated before exp: e^-50 is 0 at 2^64. */
export const EXP_CLAMP_UNITS = 50n
/** round(log2(e) · 2^192): the base change, precise enough for any scale up to 10^36. */
const LOG2E_192 = 9055943544797870567083544809312461607371518589544137143473n
/** 2^-g ≈ 1 - g·(C1 - g·(C2 - g·C3)) for 0 ≤ g < 1/8, coefficients at 2^64. */
export const EXP2_C1 = 12786235899898251264n
export const EXP2_C2 = 4428058116669038080n
export const EXP2_C3 = 979973203488235776n
/** round(2^(31 - j/8)) for j = 0..7, entry j in bits [32j, 32j+32). */
export const EXP2_TABLE = [2147483648n, 1969251188n, 1805811301n, 1655936265n, 1518500250n, 1392470869n, 1276901417n, 1170923762n].reduce(
  (w, v, j) => w | (v << BigInt(32 * j)),
  0n,
)
const MASK61 = (1n << 61n) - 1n

/**
 * The base change x (activation units) → t = x·log2(e) at 2^64 is `(x · mul) >> shift`, one MUL and one SHR.
 * For a binary scale 2^F: shift = F and mul = round(log2(e)·2^64). For 10^d: shift = 64 + bits(10^d), so
 * that mul keeps about 128 bits; 50·10^36 · mul still fits 256 bits.
 */
export function expBase(scale: bigint): { mul: bigint; shift: number } {
  const isPow2 = (scale & (scale - 1n)) === 0n
  const shift = isPow2 ? scale.toString(2).length - 1 : 64 + scale.toString(2).length
  // round(LOG2E_192 · 2^(64+shift) / (scale · 2^192))
  const num = LOG2E_192 << BigInt(64 + shift)
  const den = scale << 192n
  return { mul: (num + den / 2n) / den, shift }
}

/** e^(-x / scale) at 2^64 for x ≥ 0 (activation units), floor semantics of the EVM's MUL and SHR. */
export function expNeg(x: bigint, scale: bigint): bigint {
  const { mul, shift } = expBase(scale)
  const clamp = EXP_CLAMP_UNITS * scale
  const t = ((x > clamp ? clamp : x) * mul) >> BigInt(shift)
  const g = t & MASK61
  const p = ONE64 - ((g * (EXP2_C1 - ((g * (EXP2_C2 - ((g * EXP2_C3) >> 64n))) >> 64n))) >> 64n)
  const tab = (EXP2_TABLE >> (((t >> 61n) & 7n) * 32n)) & 0xffffffffn
  return (p * tab) >> (31n + (t >> 64n))
}

/**
 * e^-x at 2^64 in Yul (x ≥ 0 in activation units at `scale`, an expression used once): statements binding
 * `${p}t` and `${p}g`, and the expression of the result. Nested expressions, few variables: the legacy code
 * generator turns every variable and reassignment into stack shuffling. `p` prefixes the names (written
 * inline, they must not meet the kernel's own). `clamp`: wrap x in clampX (false where it cannot overflow).
 * `k` writes the constant 2^64 (compactHex where it runs once per call).
 */
export function expNegYul(scale: bigint, clamp: boolean, x: string, p = '', k: (v: bigint) => string = hex): { lets: string; e: string } {
  const base = expBase(scale)
  const t = `${p}t`
  const g = `${p}g`
  return {
    lets: `let ${t} := shr(${base.shift}, mul(${clamp ? `clampX(${x})` : x}, ${hex(base.mul)}))
                let ${g} := and(${t}, 0x1fffffffffffffff)`,
    e: `shr(add(31, shr(64, ${t})), mul(sub(${k(ONE64)}, shr(64, mul(${g}, sub(${hex(EXP2_C1)}, shr(64, mul(${g}, sub(${hex(EXP2_C2)}, shr(64, mul(${g}, ${hex(EXP2_C3)}))))))))), and(shr(and(shr(56, ${t}), 0xe0), ${hex(EXP2_TABLE)}), 0xffffffff)))`,
  }
}

/** The clamp of exp's argument to 50 units, needed where x·mul could overflow (see YulCtx.clampFree). */
export function clampXHelper(c: YulCtx): YulHelper[] {
  if (c.clampFree) return []
  const clamp = hex(EXP_CLAMP_UNITS * c.scale)
  return [
    {
      name: 'clampX',
      order: 0,
      text: `function clampX(x) -> c {
                c := x
                if gt(x, ${clamp}) { c := ${clamp} }
            }`,
    },
  ]
}

/** `expNeg(x)` as a Yul function (softmax's, and the smooth activations'). */
export function expNegHelper(c: YulCtx): YulHelper[] {
  const x = expNegYul(c.scale, !c.clampFree, 'x')
  return [
    ...clampXHelper(c),
    {
      name: 'expNeg',
      order: 1,
      text: `function expNeg(x) -> e {
                ${x.lets}
                e := ${x.e}
            }`,
    },
  ]
}

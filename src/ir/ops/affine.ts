import { quantize } from './quantize.ts'
import { absB, atScale, bitsOf, hex, type OpDef } from './types.ts'

/** Bits of a per-feature scale on chain (a norm's γ, a standalone BatchNorm's γ/√(var+ε)): round(s · 2^40). */
export const AFFINE_BITS = 40
const HALF = 1n << BigInt(AFFINE_BITS - 1)

/** A per-feature affine at the activation scale: scale[i] at 2^AFFINE_BITS, shift[i] at the activation scale. */
export type AffineQ = { scale: bigint[]; shift: bigint[] }

export const affineParams = (scale: number[], shift: number[], S: bigint): AffineQ => ({
  scale: scale.map((s) => quantize(s, AFFINE_BITS)),
  shift: shift.map((t) => atScale(t, S, quantize)),
})

export const affineFloat = (y: number[], scale: number[], shift: number[]): number[] => y.map((v, i) => v * scale[i]! + shift[i]!)

/** ((y_i · s_i + 2^39) >> 40) + t_i: the product rounded to nearest once (SAR floors), then the shift. Error ≤ half an ulp + |y|·2^-41. */
export const affineFixed = (y: bigint[], q: AffineQ): bigint[] => y.map((v, i) => ((v * q.scale[i]! + HALF) >> BigInt(AFFINE_BITS)) + q.shift[i]!)

const maxAbs = (v: bigint[]) => v.reduce((m, x) => (absB(x) > m ? absB(x) : m), 0n)

/** |out| ≤ (p · max|s| >> 40) + 1 + max|t| when |y| ≤ p. */
export const affineBound = (p: bigint, q: AffineQ): bigint => ((p * maxAbs(q.scale)) >> BigInt(AFFINE_BITS)) + 1n + maxAbs(q.shift)

/** The product y·s + 2^39 is one 256-bit signed MUL/ADD. */
export const affineCheck = (p: bigint, q: AffineQ): string | undefined => (bitsOf(p * maxAbs(q.scale) + HALF) > 254 ? 'a per-feature scale could overflow 256 bits' : undefined)

const word = (v: bigint) => hex(BigInt.asUintN(256, v))

/** Yul statements applying the affine in place to the n words at `p` (unrolled: the constants are PUSHes). */
export function affineYul(p: string, q: AffineQ): string {
  return q.scale
    .map((s, i) => {
      const at = i === 0 ? p : `add(${p}, ${32 * i})`
      const t = q.shift[i]!
      const prod = `sar(${AFFINE_BITS}, add(mul(${word(s)}, mload(${at})), ${hex(HALF)}))`
      return `mstore(${at}, ${t === 0n ? prod : `add(${prod}, ${word(t)})`})`
    })
    .join('\n                ')
}

/**
 * A per-feature x · scale + shift (BatchNorm1d in eval mode where no Linear is next to fold it into: after
 * an activation that ends a model, on a residual sum): one MUL, SAR and ADD per feature on chain, the
 * constants in the code. Max abs error half an ulp + |x|·2^-41 (the scale's quantisation).
 */
export const affine: OpDef<{ kind: 'affine'; scale: number[]; shift: number[] }> = {
  kind: 'affine',
  shape: 'vector',
  gas: 40,
  float: (y, a) => affineFloat(y, a.scale, a.shift),
  fixed: (y, a, _q, c) => affineFixed(y, affineParams(a.scale, a.shift, c.scale)),
  bound: (p, a, _q, c) => affineBound(p, affineParams(a.scale, a.shift, c.scale)),
  check: (p, a, _q, c) => affineCheck(p, affineParams(a.scale, a.shift, c.scale)),
  yul: {
    helpers: () => [],
    expr: (v) => v,
    vectorCall: (p, _n, a, c) => affineYul(p, affineParams(a.scale, a.shift, c.scale)),
  },
}

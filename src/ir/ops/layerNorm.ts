import { affineBound, affineCheck, affineFixed, affineFloat, affineParams, affineYul } from './affine.ts'
import { isqrt, isqrtHelper } from './isqrt.ts'
import { quantize } from './quantize.ts'
import { atScale, bitsOf, hex, type OpDef, type YulHelper } from './types.ts'

/** Extra bits of the root (√W · 2^32) and of the row's reciprocal (2^96): the row's one DIV loses < 2^-60 relative. */
export const ROOT_BITS = 32
export const INV_BITS = 96
const HALF = 1n << BigInt(INV_BITS - 1)

export type LayerNormOp = { kind: 'layer_norm'; size: number; groups: number; eps: number; gamma?: number[]; beta?: number[] }

/** PyTorch's LayerNorm / GroupNorm statistics in float64: (x − mean) / √(var + ε) per group of consecutive features, var biased. */
export function layerNormFloat(x: number[], groups: number, eps: number): number[] {
  const g = x.length / groups
  const out: number[] = []
  for (let k = 0; k < groups; k++) {
    const part = x.slice(k * g, (k + 1) * g)
    const mean = part.reduce((a, b) => a + b, 0) / g
    const v = part.reduce((a, b) => a + (b - mean) ** 2, 0) / g
    const sd = Math.sqrt(v + eps)
    for (const b of part) out.push((b - mean) / sd)
  }
  return out
}

/** ε is kept 2^32 finer than S² (a var near ε would feel ε's rounding at S² alone: 2e-7 at 2^20, ε = 1e-6). */
export const EPS_BITS = 32

/** ε at the square of the activation scale, 2^32 finer: round(ε · S² · 2^32). */
export const epsAtScale2 = (eps: number, S: bigint): bigint => atScale(eps, (S * S) << BigInt(EPS_BITS), quantize)

/**
 * The fixed-point twin, one group of g values y (at scale S) at a time, with no rounding until the end:
 *   T = Σy, D_i = g·y_i − T = g·S·(x_i − mean), W = (g·Σy² − T²)·2^32 + g²·E = (g·S)²·(var + ε)·2^32 (E = ε·S²·2^32),
 *   r = isqrt(W · 2^32) (≈ g·S·σ·2^32), inv = S·2^128 / r (the group's one DIV),
 *   out_i = (D_i · inv + 2^95) >> 96 = round(S · (x_i − mean) / σ).
 * Max abs error against layerNormFloat on the same fixed-point inputs: half an ulp + 1e-12 (the root's floor,
 * the reciprocal's floor, ε's rounding at S²). EVM semantics where W = 0 (ε = 0 and a constant group): r = 0, DIV gives 0.
 */
export function layerNormFixed(y: bigint[], groups: number, E: bigint, S: bigint): bigint[] {
  const g = y.length / groups
  const G = BigInt(g)
  const gE = G * G * E
  const top = S << BigInt(ROOT_BITS + INV_BITS)
  const out: bigint[] = []
  for (let k = 0; k < groups; k++) {
    const part = y.slice(k * g, (k + 1) * g)
    let t = 0n
    let s2 = 0n
    for (const v of part) (t += v), (s2 += v * v)
    const r = isqrt((((G * s2 - t * t) << BigInt(EPS_BITS)) + gE) << BigInt(2 * ROOT_BITS - EPS_BITS))
    const inv = r === 0n ? 0n : top / r
    for (const v of part) out.push(((G * v - t) * inv + HALF) >> BigInt(INV_BITS))
  }
  return out
}

/** |(x_i − mean)/σ| ≤ √(g − 1) for a group of g; the floors add at most 2^-31 relative and one unit. */
export function layerNormBound(g: number, S: bigint): bigint {
  const z = isqrt(BigInt(g - 1) * S * S) + 1n
  return z + (z >> 30n) + 2n
}

/**
 * Inputs up to p (fixed-point units) must keep every word within 256 bits: W · 2^64, and D_i · inv where
 * inv ≤ S·2^128 / max(2^32, √(g²E·2^32)) (W ≥ g²E; W ≥ 2^32 unless ε's term alone).
 */
export function layerNormCheck(p: bigint, g: number, E: bigint, S: bigint): string | undefined {
  const G = BigInt(g)
  const w = ((G * G * p * p) << BigInt(EPS_BITS)) + G * G * E
  if (bitsOf(w << BigInt(2 * ROOT_BITS - EPS_BITS)) > 255) return `a norm over ${g} features could overflow 256 bits (inputs up to ${p} units)`
  const rMin = isqrt((G * G * E) << BigInt(2 * ROOT_BITS - EPS_BITS))
  const inv = (S << BigInt(ROOT_BITS + INV_BITS)) / (rMin > 1n << BigInt(ROOT_BITS) ? rMin : 1n << BigInt(ROOT_BITS))
  if (bitsOf(2n * G * p * inv + HALF) > 254) return `a norm over ${g} features could overflow 256 bits (inputs up to ${p} units, ε small)`
  return undefined
}

/** The Yul twin of layerNormFixed over n words at p, in groups of g (a LayerNorm: g = n), e = g²·E (ε at S²·2^32). */
export const layerNormHelper = (S: bigint): YulHelper => ({
  name: 'layerNorm',
  order: 31,
  text: `function layerNorm(p, n, g, e) {
                let end := add(p, shl(5, n))
                let step := shl(5, g)
                for { let q0 := p } lt(q0, end) { q0 := add(q0, step) } {
                    let qe := add(q0, step)
                    let t := 0
                    let s2 := 0
                    for { let q := q0 } lt(q, qe) { q := add(q, 32) } { let v := mload(q) t := add(t, v) s2 := add(s2, mul(v, v)) }
                    let inv := div(${hex(S << BigInt(ROOT_BITS + INV_BITS))}, isqrt(shl(${2 * ROOT_BITS - EPS_BITS}, add(shl(${EPS_BITS}, sub(mul(g, s2), mul(t, t))), e))))
                    for { let q := q0 } lt(q, qe) { q := add(q, 32) } { mstore(q, sar(${INV_BITS}, add(mul(sub(mul(g, mload(q)), t), inv), ${hex(HALF)}))) }
                }
            }`,
})

/** The call normalising the n words at p in groups of g (ε at S²: E). */
export const layerNormCall = (p: string, n: number, g: number, E: bigint): string => `layerNorm(${p}, ${n}, ${g}, ${hex(BigInt(g) * BigInt(g) * E)})`

const groupOf = (a: LayerNormOp) => a.size / a.groups
const affineOf = (a: LayerNormOp, S: bigint) =>
  a.gamma || a.beta ? affineParams(a.gamma ?? new Array<number>(a.size).fill(1), a.beta ?? new Array<number>(a.size).fill(0), S) : undefined

/**
 * nn.LayerNorm over the last dim (groups 1) and nn.GroupNorm on (N, C) vectors (groups G, C/G consecutive
 * features each): an integer square root and one DIV per group on chain, then γ·z + β per feature when
 * affine (affine.ts) and not folded into the next Linear. Max abs error half an ulp + 1e-12 before the
 * affine (measured at 2^20, test/fixed/layerNorm.test.ts), and half an ulp + |γ|·(half an ulp) after it.
 */
export const layerNorm: OpDef<LayerNormOp> = {
  kind: 'layer_norm',
  shape: 'vector',
  gas: 90,
  float: (y, a) => {
    const z = layerNormFloat(y, a.groups, a.eps)
    return a.gamma || a.beta ? affineFloat(z, a.gamma ?? z.map(() => 1), a.beta ?? z.map(() => 0)) : z
  },
  fixed: (y, a, _q, c) => {
    const z = layerNormFixed(y, a.groups, epsAtScale2(a.eps, c.scale), c.scale)
    const q = affineOf(a, c.scale)
    return q ? affineFixed(z, q) : z
  },
  bound: (_p, a, _q, c) => {
    const z = layerNormBound(groupOf(a), c.scale)
    const q = affineOf(a, c.scale)
    return q ? affineBound(z, q) : z
  },
  check: (p, a, _q, c) => {
    if (!Number.isInteger(groupOf(a)) || groupOf(a) < 1) return `${a.size} features do not split into ${a.groups} groups`
    const q = affineOf(a, c.scale)
    return layerNormCheck(p, groupOf(a), epsAtScale2(a.eps, c.scale), c.scale) ?? (q ? affineCheck(layerNormBound(groupOf(a), c.scale), q) : undefined)
  },
  yul: {
    helpers: (c) => [isqrtHelper(), layerNormHelper(c.scale)],
    expr: (v) => v,
    vectorCall: (p, n, a, c) => {
      const q = affineOf(a, c.scale)
      const call = layerNormCall(p, n, groupOf(a), epsAtScale2(a.eps, c.scale))
      return q ? `${call}\n                ${affineYul(p, q)}` : call
    },
  },
  error: 1e-12,
}

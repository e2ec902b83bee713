import { EXP_CLAMP_UNITS, expNeg, expNegYul, ONE64 } from './exp.ts'
import { hex, type YulCtx, type YulHelper } from './types.ts'

/**
 * Kernels the smooth activations (SiLU, GELU, Softplus, Mish, ELU, LogSoftmax) share, in BigInt and in Yul,
 * exactly alike: exp with its clamp always in place (expNegC), exp of an argument at 2^64 (expNeg64), ln(1+u)
 * at 2^64 (log1p64) and v·s/2^64 rounded (timesFrac).
 */
export const ONE128 = 1n << 128n
const HALF64 = 1n << 63n

/** round(v · s / 2^64) with the SAR's floor: (v·s + 2^63) >> 64. */
export const timesFrac = (v: bigint, s: bigint): bigint => (v * s + HALF64) >> 64n
export const timesFracYul = (v: string, s: string) => `sar(64, add(mul(${v}, ${s}), ${hex(HALF64)}))`

/** e^-x at 2^64 for x ≥ 0 at 2^64 (not the activation scale): the GELU kernels' exp. */
export const expNeg64 = (x: bigint): bigint => expNeg(x, ONE64)

/** 1/(2k+1) at 2^64, k = 0..9: ln(1+u) = 2·atanh(s) = 2·Σ s^(2k+1)/(2k+1), s = u/(2+u) ≤ 1/3 (the rest < 1e-10). */
const ATANH = [
  18446744073709551616n, 6148914691236517205n, 3689348814741910323n, 2635249153387078802n, 2049638230412172402n, 1676976733973595601n, 1418980313362273201n,
  1229782938247303441n, 1085102592571150095n, 970881267037344822n,
]

/** ln(1+u) at 2^64 for 0 ≤ u ≤ 2^64 (u at 2^64): one DIV, a degree-19 odd series in Horner form, each step floors. */
export function log1p64(u: bigint): bigint {
  const s = (u << 64n) / (2n * ONE64 + u)
  const s2 = (s * s) >> 64n
  let h = ATANH[ATANH.length - 1]!
  for (let k = ATANH.length - 2; k >= 0; k--) h = ATANH[k]! + ((s2 * h) >> 64n)
  return (2n * s * h) >> 64n
}

/** Yul helpers: expNegC (activation units, clamped), expNeg64 (2^64 units, clamped) and log1p64. */
export function expNegCHelper(c: YulCtx): YulHelper {
  const clamp = hex(EXP_CLAMP_UNITS * c.scale)
  const x = expNegYul(c.scale, false, 'x', 'c')
  return {
    name: 'expNegC',
    order: 5,
    text: `function expNegC(x) -> e {
                if gt(x, ${clamp}) { x := ${clamp} }
                ${x.lets}
                e := ${x.e}
            }`,
  }
}

export function expNeg64Helper(): YulHelper {
  const clamp = hex(EXP_CLAMP_UNITS * ONE64)
  const x = expNegYul(ONE64, false, 'x', 'd')
  return {
    name: 'expNeg64',
    order: 6,
    text: `function expNeg64(x) -> e {
                if gt(x, ${clamp}) { x := ${clamp} }
                ${x.lets}
                e := ${x.e}
            }`,
  }
}

export function log1p64Helper(): YulHelper {
  const horner = ATANH.slice(0, -1).reduceRight((inner, c) => `add(${hex(c)}, shr(64, mul(s2, ${inner})))`, hex(ATANH[ATANH.length - 1]!))
  return {
    name: 'log1p64',
    order: 7,
    text: `function log1p64(u) -> l {
                let s := div(shl(64, u), add(${hex(2n * ONE64)}, u))
                let s2 := shr(64, mul(s, s))
                l := shr(64, mul(shl(1, s), ${horner}))
            }`,
  }
}

/** |v| as Yul, with m = sar(255, v) bound first: (v xor m) − m. */
export const absYul = (v: string, m: string) => `sub(xor(${v}, ${m}), ${m})`

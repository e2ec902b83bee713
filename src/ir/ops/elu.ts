import { expNeg, ONE64 } from './exp.ts'
import { quantize } from './quantize.ts'
import { expNegCHelper } from './smooth.ts'
import { hex, type OpDef } from './types.ts'

/**
 * ELU(alpha), alpha ≥ 0: v for v ≥ 0, else -round(alpha·(1 - e^v)) with e^v from the sigmoid's exp (at 2^64)
 * and alpha at 2^64 (the parameter): w = floor((1 - e)·alpha), out = -((w·S + 2^63) >> 64). Max abs error half
 * an ulp + alpha·2.7e-8 (exp's relative error).
 */
export function eluFixed(v: bigint, alpha64: bigint, scale: bigint): bigint {
  if (v >= 0n) return v
  const w = ((ONE64 - expNeg(-v, scale)) * alpha64) >> 64n
  return -((w * scale + (1n << 63n)) >> 64n)
}

export const elu: OpDef<{ kind: 'elu'; alpha: number }> = {
  kind: 'elu',
  shape: 'elementwise',
  gas: 450,
  float: (y, a) => y.map((v) => (v >= 0 ? v : a.alpha * Math.expm1(v))),
  param: (a) => quantize(a.alpha, 64),
  fixed: (y, _a, q, c) => y.map((v) => eluFixed(v, q, c.scale)),
  bound: (p, _a, q, c) => {
    const neg = ((q * c.scale) >> 64n) + 1n
    return neg > p ? neg : p
  },
  check: (_p, a) => (!(a.alpha >= 0) || a.alpha > 2 ** 60 ? `elu(alpha=${a.alpha}): alpha must be ≥ 0` : undefined),
  yul: {
    helpers: (c) => [
      expNegCHelper(c),
      {
        name: 'elu',
        order: 13,
        text: `function elu(v, a) -> r {
                r := v
                if slt(v, 0) {
                    let w := shr(64, mul(sub(${hex(ONE64)}, expNegC(sub(0, v))), a))
                    r := sub(0, shr(64, add(mul(w, ${hex(c.scale)}), ${hex(1n << 63n)})))
                }
            }`,
      },
    ],
    expr: (v, q) => `elu(${v}, ${hex(q)})`,
  },
  error: 2.7e-8,
}

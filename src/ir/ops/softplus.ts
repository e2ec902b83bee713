import { expNeg } from './exp.ts'
import { quantize } from './quantize.ts'
import { expNegCHelper, log1p64, log1p64Helper, timesFrac, timesFracYul } from './smooth.ts'
import { atScale, bitsOf, hex, type OpDef } from './types.ts'

/**
 * Softplus (beta = 1) = max(v, 0) + ln(1 + e^-|v|), and v itself above the threshold (PyTorch's rule; the
 * threshold at the activation scale is the parameter). e^-|v| by the sigmoid's exp, ln(1+u) by log1p64 (one
 * DIV, an atanh series). Max abs error half an ulp + 2.7e-8.
 */
export function softplusFixed(v: bigint, thr: bigint, scale: bigint): bigint {
  if (v > thr) return v
  return (v > 0n ? v : 0n) + timesFrac(scale, log1p64(expNeg(v < 0n ? -v : v, scale)))
}

export const softplus: OpDef<{ kind: 'softplus'; threshold: number }> = {
  kind: 'softplus',
  shape: 'elementwise',
  gas: 700,
  float: (y, a) => y.map((v) => (v > a.threshold ? v : Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))))),
  param: (a, c) => atScale(a.threshold, c.scale, quantize),
  fixed: (y, _a, q, c) => y.map((v) => softplusFixed(v, q, c.scale)),
  // |out| ≤ max(p, 0) + ln 2 (+ an ulp)
  bound: (p, _a, _q, c) => p + c.scale,
  check: (p) => (bitsOf(p) > 190 ? 'softplus could overflow 256 bits' : undefined),
  yul: {
    helpers: (c) => [
      expNegCHelper(c),
      log1p64Helper(),
      {
        name: 'softplus',
        order: 17,
        text: `function softplus(v, thr) -> r {
                r := v
                if iszero(sgt(v, thr)) {
                    let m := sar(255, v)
                    r := add(and(v, not(m)), ${timesFracYul(hex(c.scale), `log1p64(expNegC(sub(xor(v, m), m)))`)})
                }
            }`,
      },
    ],
    expr: (v, q) => `softplus(${v}, ${hex(BigInt.asUintN(256, q))})`,
  },
  error: 2.7e-8,
}

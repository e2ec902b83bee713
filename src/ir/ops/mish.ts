import { expNeg, ONE64 } from './exp.ts'
import { expNegCHelper, timesFrac, timesFracYul } from './smooth.ts'
import { bitsOf, hex, type OpDef } from './types.ts'

/**
 * Mish = v·tanh(softplus(v)) with no logarithm: tanh(ln(1+w)) = (w² + 2w)/(w² + 2w + 2), w = e^v. With
 * e = e^-|v| (the sigmoid's exp): for v ≤ 0, n = e(e+2) and r = n/(n+2); for v > 0, dividing by w²,
 * r = (1+2e)/(1+2e+2e²). r at 2^64 (one DIV), then round(v·r/2^64). Max abs error half an ulp + ~3e-8.
 */
export function mishFixed(v: bigint, scale: bigint): bigint {
  const e = expNeg(v < 0n ? -v : v, scale)
  let r: bigint
  if (v <= 0n) {
    const n = (e * (e + 2n * ONE64)) >> 64n
    r = (n << 64n) / (n + 2n * ONE64)
  } else {
    const num = ONE64 + 2n * e
    r = (num << 64n) / (num + ((2n * e * e) >> 64n))
  }
  return timesFrac(v, r)
}

export const mish: OpDef<{ kind: 'mish' }> = {
  kind: 'mish',
  shape: 'elementwise',
  gas: 500,
  float: (y) => y.map((v) => v * Math.tanh(v > 20 ? v : Math.log1p(Math.exp(v)))),
  fixed: (y, _a, _q, c) => y.map((v) => mishFixed(v, c.scale)),
  bound: (p) => p + 1n,
  check: (p) => (bitsOf(p) > 190 ? 'mish could overflow 256 bits' : undefined),
  yul: {
    helpers: (c) => [
      expNegCHelper(c),
      {
        name: 'mish',
        order: 18,
        text: `function mish(v) -> r {
                let e := expNegC(sub(xor(v, sar(255, v)), sar(255, v)))
                let q := 0
                switch sgt(v, 0)
                case 0 {
                    let n := shr(64, mul(e, add(e, ${hex(2n * ONE64)})))
                    q := div(shl(64, n), add(n, ${hex(2n * ONE64)}))
                }
                default {
                    let num := add(${hex(ONE64)}, shl(1, e))
                    q := div(shl(64, num), add(num, shr(64, mul(shl(1, e), e))))
                }
                r := ${timesFracYul('v', 'q')}
            }`,
      },
    ],
    expr: (v) => `mish(${v})`,
  },
  error: 3e-8,
}

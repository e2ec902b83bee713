import { expNeg, ONE64 } from './exp.ts'
import { absYul, expNegCHelper, ONE128, timesFrac, timesFracYul } from './smooth.ts'
import { bitsOf, hex, type OpDef } from './types.ts'

/** sigmoid(v) at 2^64: 2^128/(2^64 + e^-|v|), and 2^64 minus it for v < 0. */
export function sigmoid64(v: bigint, scale: bigint): bigint {
  const s = ONE128 / (ONE64 + expNeg(v < 0n ? -v : v, scale))
  return v < 0n ? ONE64 - s : s
}
/** The same in Yul, binding `s` (v a variable; m = sar(255, v) bound first). */
export const sigmoid64Yul = (v: string) =>
  `let s := div(${hex(ONE128)}, add(${hex(ONE64)}, expNegC(${absYul(v, 'm')})))
                s := add(xor(s, m), and(m, ${hex(ONE64 + 1n)}))`

/** SiLU (swish) = v·sigmoid(v): sigmoid at 2^64 (one DIV), then round(v·s / 2^64). Max abs error half an ulp + ~1e-8. */
export const silu: OpDef<{ kind: 'silu' }> = {
  kind: 'silu',
  shape: 'elementwise',
  gas: 450,
  float: (y) => y.map((v) => v / (1 + Math.exp(-v))),
  fixed: (y, _a, _q, c) => y.map((v) => timesFrac(v, sigmoid64(v, c.scale))),
  bound: (p) => p + 1n,
  check: (p) => (bitsOf(p) > 190 ? 'silu could overflow 256 bits' : undefined),
  yul: {
    helpers: (c) => [
      expNegCHelper(c),
      {
        name: 'silu',
        order: 14,
        text: `function silu(v) -> r {
                let m := sar(255, v)
                ${sigmoid64Yul('v')}
                r := ${timesFracYul('v', 's')}
            }`,
      },
    ],
    expr: (v) => `silu(${v})`,
  },
  error: 1.2e-8,
}

import { relu6Shift, relu6ShiftYul } from './hardsigmoid.ts'
import { bitsOf, hex, type OpDef } from './types.ts'

/**
 * Hardswish = x·relu6(x + 3)/6, rounded to nearest: floor((v·t + 3S)/(6S)) with t = relu6Shift(v). v·t can be
 * negative (v in (-3, 0)), never below -2.25·S², so an offset of S/2 whole divisors (3S²) keeps the DIV's
 * operand ≥ 0 and is taken off after: one MUL, one DIV. Within half an ulp.
 */
export function hardswishFixed(v: bigint, scale: bigint): bigint {
  const t = relu6Shift(v, scale)
  return (v * t + 3n * scale + 3n * scale * scale) / (6n * scale) - scale / 2n
}

export const hardswish: OpDef<{ kind: 'hardswish' }> = {
  kind: 'hardswish',
  shape: 'elementwise',
  gas: 130,
  float: (y) => y.map((v) => (v <= -3 ? 0 : v >= 3 ? v : (v * (v + 3)) / 6)),
  fixed: (y, _a, _q, c) => y.map((v) => hardswishFixed(v, c.scale)),
  bound: (p) => p + 1n,
  check: (p, _a, _q, c) => (c.scale % 2n !== 0n ? 'hardswish needs an even scale' : bitsOf(p * 6n * c.scale + 3n * c.scale * c.scale) > 254 ? 'hardswish could overflow 256 bits' : undefined),
  yul: {
    helpers: (c) => [
      {
        name: 'hardswish',
        order: 12,
        text: `function hardswish(v) -> r {
                ${relu6ShiftYul('v', c.scale)}
                r := sub(div(add(mul(v, t), ${hex(3n * c.scale + 3n * c.scale * c.scale)}), ${hex(6n * c.scale)}), ${hex(c.scale / 2n)})
            }`,
      },
    ],
    expr: (v) => `hardswish(${v})`,
  },
}

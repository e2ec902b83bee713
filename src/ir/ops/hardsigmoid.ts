import { bitsOf, hex, type OpDef } from './types.ts'

/** t = clamp(v + 3·scale, 0, 6·scale): relu6(x + 3) at the activation scale. */
export function relu6Shift(v: bigint, scale: bigint): bigint {
  const t = v + 3n * scale
  return t < 0n ? 0n : t > 6n * scale ? 6n * scale : t
}
export const relu6ShiftYul = (v: string, scale: bigint) =>
  `let t := add(${v}, ${hex(3n * scale)})
                if slt(t, 0) { t := 0 }
                if sgt(t, ${hex(6n * scale)}) { t := ${hex(6n * scale)} }`

/** Hardsigmoid = relu6(x + 3)/6, rounded to nearest: floor((t + 3)/6). Within half an ulp; one DIV. */
export const hardsigmoid: OpDef<{ kind: 'hardsigmoid' }> = {
  kind: 'hardsigmoid',
  shape: 'elementwise',
  gas: 80,
  float: (y) => y.map((v) => (v <= -3 ? 0 : v >= 3 ? 1 : v / 6 + 0.5)),
  fixed: (y, _a, _q, c) => y.map((v) => (relu6Shift(v, c.scale) + 3n) / 6n),
  bound: (_p, _a, _q, c) => c.scale,
  check: (p, _a, _q, c) => (bitsOf(p + 3n * c.scale) > 254 ? 'hardsigmoid could overflow 256 bits' : undefined),
  yul: {
    helpers: (c) => [
      {
        name: 'hardsigmoid',
        order: 11,
        text: `function hardsigmoid(v) -> r {
                ${relu6ShiftYul('v', c.scale)}
                r := div(add(t, 3), 6)
            }`,
      },
    ],
    expr: (v) => `hardsigmoid(${v})`,
  },
}

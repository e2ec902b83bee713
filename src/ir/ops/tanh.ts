import { clampXHelper, EXP_CLAMP_UNITS, expNeg, expNegYul, ONE64 } from './exp.ts'
import { hex, type OpDef } from './types.ts'

/** tanh(y) = (1-e^-2|y|)/(1+e^-2|y|) rounded to nearest, sign restored (odd exactly). */
export function tanhFixed(y: bigint, scale: bigint): bigint {
  const a = y < 0n ? -y : y
  const clamp = EXP_CLAMP_UNITS * scale
  const e = expNeg(2n * (a > clamp ? clamp : a), scale)
  const den = ONE64 + e
  const t = ((ONE64 - e) * scale + (den >> 1n)) / den
  return y < 0n ? -t : t
}

/** Tanh: exp of 2|y| and one DIV; max abs error half an ulp + 1.32e-8. */
export const tanh: OpDef<{ kind: 'tanh' }> = {
  kind: 'tanh',
  shape: 'elementwise',
  gas: 450,
  float: (y) => y.map(Math.tanh),
  fixed: (y, _a, _q, c) => y.map((v) => tanhFixed(v, c.scale)),
  bound: (_p, _a, _q, c) => c.scale,
  expFactor: 2n,
  yul: {
    // m = 0 or all ones (y < 0): |y| = (y xor m) - m, the sign restored as (s xor m) - m
    helpers: (c) => {
      const free = c.clampFree
      const x = expNegYul(c.scale, !free, `shl(1, ${free ? 'sub(xor(y, m), m)' : 'clampX(sub(xor(y, m), m))'})`)
      const ONE = hex(ONE64)
      const up = (v: string) => (c.binary ? `shl(${c.F}, ${v})` : `mul(${v}, ${hex(c.scale)})`)
      return [
        ...clampXHelper(c),
        {
          name: 'tanh_',
          order: 3,
          text: `function tanh_(y) -> s {
                let m := sar(255, y)
                ${x.lets}
                let e := ${x.e}
                let den := add(${ONE}, e)
                s := sub(xor(div(add(${up(`sub(${ONE}, e)`)}, shr(1, den)), den), m), m)
            }`,
        },
      ]
    },
    expr: (v) => `tanh_(${v})`,
  },
  error: 1.32e-8,
}

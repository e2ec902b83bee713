import { expNeg, expNegHelper } from './exp.ts'
import { hex, type OpDef } from './types.ts'

/** softmax = e^-(max-z_j) / Σ e^-(max-z_i), each rounded to nearest once: sums to scale within n/2 ulps, shift invariant. */
export function softmaxFixed(z: bigint[], scale: bigint): bigint[] {
  let m = z[0]!
  for (const v of z) if (v > m) m = v
  const e = z.map((v) => expNeg(m - v, scale))
  const s = e.reduce((acc, v) => acc + v, 0n)
  return e.map((v) => (v * scale + (s >> 1n)) / s)
}

/** Softmax over the output vector (the last dense layer only): n exps and n DIVs; max abs error half an ulp + 6.6e-9. */
export const softmax: OpDef<{ kind: 'softmax' }> = {
  kind: 'softmax',
  shape: 'vector',
  gas: 500,
  float: (y) => {
    const m = Math.max(...y)
    const e = y.map((v) => Math.exp(v - m))
    const s = e.reduce((p, q) => p + q, 0)
    return e.map((v) => v / s)
  },
  fixed: (y, _a, _q, c) => softmaxFixed(y, c.scale),
  bound: (_p, _a, _q, c) => c.scale,
  expFactor: 2n,
  yul: {
    helpers: (c) => {
      const up = (v: string) => (c.binary ? `shl(${c.F}, ${v})` : `mul(${v}, ${hex(c.scale)})`)
      return [
        ...expNegHelper(c),
        {
          name: 'softmax',
          order: 4,
          text: `function softmax(p, n) {
                let end := add(p, shl(5, n))
                let m := mload(p)
                for { let q := add(p, 32) } lt(q, end) { q := add(q, 32) } { let v := mload(q) if sgt(v, m) { m := v } }
                let sum := 0
                for { let q := p } lt(q, end) { q := add(q, 32) } {
                    let e := expNeg(sub(m, mload(q)))
                    mstore(q, e)
                    sum := add(sum, e)
                }
                let half := shr(1, sum)
                for { let q := p } lt(q, end) { q := add(q, 32) } { mstore(q, div(add(${up('mload(q)')}, half), sum)) }
            }`,
        },
      ]
    },
    expr: (v) => v,
    vectorCall: (p, n) => `softmax(${p}, ${n})`,
  },
  error: 6.6e-9,
}

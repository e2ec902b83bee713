import { expNeg, expNegHelper, ONE64 } from './exp.ts'
import { log1p64, log1p64Helper, timesFrac } from './smooth.ts'
import { hex, type OpDef } from './types.ts'

/** round(ln 2 · 2^64) */
const LN2_64 = 12786308645202655660n

/**
 * LogSoftmax over the output vector (the last layer only): z_j − max − L with L = ln Σ e^-(max−z_i) rounded
 * to the activation scale once. The sum s (at 2^64, in [1, n]) is halved k times into [1, 2), then
 * ln s = k·ln 2 + ln(1 + u) (log1p64). Returns log-probabilities at the activation scale; the argmax is the
 * logits' (every output is shifted by the same L). Max abs error half an ulp + ~3e-8.
 */
export function logSoftmaxFixed(z: bigint[], scale: bigint): bigint[] {
  let m = z[0]!
  for (const v of z) if (v > m) m = v
  let s = z.reduce((acc, v) => acc + expNeg(m - v, scale), 0n)
  let k = 0n
  while (s >= 2n * ONE64) (s >>= 1n), k++
  const L = timesFrac(scale, k * LN2_64 + log1p64(s - ONE64))
  return z.map((v) => v - m - L)
}

export const logSoftmax: OpDef<{ kind: 'log_softmax' }> = {
  kind: 'log_softmax',
  shape: 'vector',
  gas: 600,
  float: (y) => {
    const m = Math.max(...y)
    const l = Math.log(y.reduce((acc, v) => acc + Math.exp(v - m), 0))
    return y.map((v) => v - m - l)
  },
  fixed: (y, _a, _q, c) => logSoftmaxFixed(y, c.scale),
  // z − max ∈ [−2p, 0], and L ≤ ln n < 64 units
  bound: (p, _a, _q, c) => 2n * p + 64n * c.scale,
  expFactor: 2n,
  yul: {
    helpers: (c) => [
      ...expNegHelper(c),
      log1p64Helper(),
      {
        name: 'logSoftmax',
        order: 19,
        text: `function logSoftmax(p, n) {
                let end := add(p, shl(5, n))
                let m := mload(p)
                for { let q := add(p, 32) } lt(q, end) { q := add(q, 32) } { let v := mload(q) if sgt(v, m) { m := v } }
                let sum := 0
                for { let q := p } lt(q, end) { q := add(q, 32) } { sum := add(sum, expNeg(sub(m, mload(q)))) }
                let k := 0
                for {} iszero(lt(sum, ${hex(2n * ONE64)})) {} { sum := shr(1, sum) k := add(k, 1) }
                let l := add(m, shr(64, add(mul(${hex(c.scale)}, add(mul(k, ${hex(LN2_64)}), log1p64(sub(sum, ${hex(ONE64)})))), ${hex(1n << 63n)})))
                for { let q := p } lt(q, end) { q := add(q, 32) } { mstore(q, sub(mload(q), l)) }
            }`,
      },
    ],
    expr: (v) => v,
    vectorCall: (p, n) => `logSoftmax(${p}, ${n})`,
  },
  error: 3e-8,
}

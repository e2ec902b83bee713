import { quantize } from './quantize.ts'
import { absB, atScale, hex, type OpDef } from './types.ts'

const M128 = (1n << 128n) - 1n
/** The clamp's bounds at the activation scale, packed in the op's parameter: max·2^128 + (min mod 2^128). */
const unpack = (q: bigint) => ({ lo: BigInt.asIntN(128, q & M128), hi: q >> 128n })
const hexWord = (v: bigint) => hex(BigInt.asUintN(256, v))

/**
 * Hardtanh(min, max) and ReLU6 (= hardtanh(0, 6)): a clamp, two signed comparisons on chain. Exact where the
 * bounds are representable at the scale (0, ±1, 6 are); else within half an ulp of the float bounds.
 */
export const hardtanh: OpDef<{ kind: 'hardtanh'; min: number; max: number }> = {
  kind: 'hardtanh',
  shape: 'elementwise',
  gas: 60,
  float: (y, a) => y.map((v) => (v < a.min ? a.min : v > a.max ? a.max : v)),
  param: (a, c) => (atScale(a.max, c.scale, quantize) << 128n) + (atScale(a.min, c.scale, quantize) & M128),
  fixed: (y, _a, q) => {
    const { lo, hi } = unpack(q)
    return y.map((v) => (v < lo ? lo : v > hi ? hi : v))
  },
  // monotone: |out| is largest at an end of [-p, p]
  bound: (p, _a, q) => {
    const { lo, hi } = unpack(q)
    const clamp = (v: bigint) => absB(v < lo ? lo : v > hi ? hi : v)
    const a = clamp(-p)
    const b = clamp(p)
    return a > b ? a : b
  },
  check: (_p, a) => (a.min > a.max ? `hardtanh(${a.min}, ${a.max}): min is above max` : undefined),
  yul: {
    helpers: () => [
      {
        name: 'clip',
        order: 10,
        text: `function clip(v, lo, hi) -> r {
                r := v
                if slt(v, lo) { r := lo }
                if sgt(v, hi) { r := hi }
            }`,
      },
    ],
    expr: (v, q) => {
      const { lo, hi } = unpack(q)
      return `clip(${v}, ${hexWord(lo)}, ${hexWord(hi)})`
    },
  },
}

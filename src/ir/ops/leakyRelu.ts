import { quantize } from './quantize.ts'
import { hex, type OpDef } from './types.ts'

const abs = (v: bigint) => (v < 0n ? -v : v)

/** Negative side: floor(y · slopeQ / 2^slopeBits), slopeQ = round(slope · 2^slopeBits). The EVM's SAR floors too. */
export function leakyReluFixed(y: bigint, slopeQ: bigint, slopeBits: number): bigint {
  return y < 0n ? (y * slopeQ) >> BigInt(slopeBits) : y
}

/** LeakyReLU (and a PReLU with one slope): exact up to the slope's quantisation at 2^slopeBits. */
export const leakyRelu: OpDef<{ kind: 'leaky_relu'; slope: number }> = {
  kind: 'leaky_relu',
  shape: 'elementwise',
  gas: 20,
  float: (y, a) => y.map((v) => (v < 0 ? v * a.slope : v)),
  param: (a, c) => quantize(a.slope, c.slopeBits),
  fixed: (y, _a, q, c) => y.map((v) => leakyReluFixed(v, q, c.slopeBits)),
  // |floor(v·q / 2^slopeBits)| ≤ (p·|q| >> slopeBits) + 1, larger than p when |slope| > 1
  bound: (p, _a, q, c) => {
    const neg = ((p * abs(q)) >> BigInt(c.slopeBits)) + 1n
    return neg > p ? neg : p
  },
  // the contract computes v·slopeQ in one 256-bit MUL before the shift
  check: (p, a, q) => (abs(p * abs(q)).toString(2).length > 255 ? `leaky_relu(${a.slope}) could overflow 256 bits` : undefined),
  yul: {
    helpers: () => [],
    lateHelpers: (c) => [
      {
        name: 'leaky',
        order: 0,
        text: `function leaky(v, slope) -> r {
                r := v
                if slt(v, 0) { r := sar(${c.slopeBits}, mul(v, slope)) }
            }`,
      },
    ],
    expr: (v, q) => `leaky(${v}, ${hex(BigInt.asUintN(256, q))})`,
  },
}

import type { LayerPlan, Plan } from '../../fixed/types.ts'
import { storeActivation } from './activationYul.ts'
import { laneMask, packetShift, weightBiasWord, type GroupLayout } from '../weights/weightBlob.ts'

/**
 * The lane kernel, reusable by every layer kind: a group's lane words come straight from its interleaved
 * packets (one MLOAD serves `perWord` lane words, each `and(shr(s, m), mask)`), are multiplied by their
 * input and added, with no per-weight sign handling; the weights' bias 2^(8·wb−1)·Σx leaves every lane in
 * one MUL at the end (`biasedAccInit`). Yul evaluates arguments right to left, so chains stay flat.
 */

export const hex = (n: number | bigint) => '0x' + n.toString(16)

/** Terms folded into the accumulator per statement: right-nested ADDs need no stack juggling between products. */
const CHAIN = 16

/**
 * `acc := add(t0, add(t1, … add(tk, acc)))` statements: Yul evaluates arguments right to left, so the
 * innermost term goes first and the stack stays flat; the sum is the same as one ADD per statement.
 */
export function macChain(terms: string[], acc = 'acc'): string[] {
  const out: string[] = []
  for (let i = 0; i < terms.length; i += CHAIN) out.push(`${acc} := ${terms.slice(i, i + CHAIN).reduceRight((rest, t) => `add(${t}, ${rest})`, acc)}`)
  return out
}

/** Lane word j of the packet held in `m`: the biased weights of input t·perWord + j, one per lane. */
export function laneWordOf(g: GroupLayout, j: number, weightBytes: number, m = 'm', mask = 'mask'): string {
  const s = packetShift(g, j, weightBytes)
  return `and(${s ? `shr(${s}, ${m})` : m}, ${mask})`
}

/**
 * `let mask := … let bw := …` for a group: its lane mask and 2^(8·wb−1) in every lane, as stack variables
 * (repeated PUSH32s become CODECOPYs; solc's optimizer picks the cheapest form of each literal).
 */
export function maskAndBiasDecl(g: GroupLayout, weightBytes: number): string {
  return `let mask := ${hex(laneMask(g, weightBytes))} let bw := ${hex(weightBiasWord(g, weightBytes))}`
}

/**
 * The group's biases as a signed lane word, read from its bias packet at address expression `at`: SAR
 * sign-extends it, so the word is the lanes' exact signed sum (no stray bits above the top lane, which a
 * biased split reads without a mask).
 */
export function biasWordExpr(g: GroupLayout, biasBytes: number, at: string): string {
  if (g.lanes === 1) return `sar(${256 - 8 * biasBytes}, mload(${at}))`
  // the bias lane word fills the packet's whole bytes (an int4 group's may end in an unused nibble)
  const bits = 8 * Math.ceil((g.lanes * g.spacing) / 8)
  return bits === 256 ? `mload(${at})` : `sar(${256 - bits}, mload(${at}))`
}

/**
 * The accumulator's start: the biases minus the weights' unsigned bias (`bw`, see maskAndBiasDecl) times Σx
 * (`sx`), in every lane at once, plus the split's lane bias (laneBias) when `layer`'s lanes split biased.
 */
export function biasedAccInit(g: GroupLayout, plan: Plan, layer: LayerPlan, biasAt: string, sx = 'sx'): string {
  const lb = laneBias(g.lanes, g.spacing, layer.wShift)
  const bias = biasWordExpr(g, plan.biasBytes, biasAt)
  return `sub(${lb ? `add(${bias}, ${hex(lb)})` : bias}, mul(${sx}, bw))`
}

/**
 * MAC terms for packets [t0, t1) of a group with no shift per weight: lane word j of packet t is
 * `and(mload(wordAt(t, packetShift/8)), mask)`, the MLOAD starting that many bytes before the packet's own
 * so that field j of every lane lands at the lane's bit 0 (the bytes it takes in before the packet are masked
 * off). PUSH, MLOAD, DUP, AND per lane word where a shared `m` costs PUSH, DUP, SHR, DUP, AND plus its
 * MLOAD and reassignment per packet. Chained as macChain does (CHAIN terms per statement). Needs `mask`.
 */
export function directPacketMacs(g: GroupLayout, weightBytes: number, nIn: number, t0: number, t1: number, wordAt: (t: number, lead: number) => string, x: (i: number) => string, nibbleAcc = false): string[] {
  const terms: string[] = []
  const high: string[] = []
  for (let t = t0; t < t1; t++)
    for (let j = 0; j < g.perWord && t * g.perWord + j < nIn; j++) {
      // int4 weights: an odd field sits a nibble above a byte boundary: with `nibbleAcc` it is masked where it
      // is (mask4) and its product, 16 times too large, goes to acc4 (see nibbleAccFits); else a 4-bit SHR
      const shift = packetShift(g, j, weightBytes)
      const word = `mload(${wordAt(t, Math.floor(shift / 8))})`
      if (shift % 8 && nibbleAcc) high.push(`mul(and(${word}, mask4), ${x(t * g.perWord + j)})`)
      else terms.push(`mul(and(${shift % 8 ? `shr(${shift % 8}, ${word})` : word}, mask), ${x(t * g.perWord + j)})`)
    }
  return [...macChain(terms), ...macChain(high, 'acc4')]
}

/**
 * Whether an int4 group may sum its odd fields' products unshifted, 16 times too large, in a second
 * accumulator acc4 (then `acc + sar(4, acc4)`, exact): its lanes' sums of (w + 8)·x (at most 15·|x| each
 * over the odd inputs) must stay below 2^251 once 16 times larger, the top lane included.
 */
export function nibbleAccFits(g: GroupLayout, weightBytes: number, nIn: number, xAbsMax: bigint): boolean {
  if (weightBytes !== 0.5 || g.lanes * g.spacing + 4 > 256) return false
  const laneMax = 15n * BigInt(Math.ceil(nIn / 2)) * xAbsMax
  return (g.lanes - 1) * g.spacing + 1 + laneMax.toString(2).length < 251
}

/**
 * Whether a group's lanes are split by field (`biasedLanes`): every lane carries 2^(spacing−1) more, so
 * each is a non-negative field with no borrow from the lane below, read straight out of `acc` with one SHR
 * and one AND (the top one with a SHR alone), where the signed split takes SIGNEXTEND, a SUB and a SAR
 * per lane to remove it. Needs the shift back to the activation scale below the lane's sign bit (so the
 * bias comes out whole after it) and more than one lane.
 */
export const splitsBiased = (lanes: number, spacing: number, wShift: number) => lanes > 1 && wShift < spacing

/**
 * The constant that biases every lane of a group by 2^(spacing−1) (0 when the group splits signed): added
 * once to its accumulator's start (folded into a constant or a once-per-transaction word where there is one).
 * Exact: the interval analysis proves each lane in [−2^(spacing−1), 2^(spacing−1)), so each biased lane
 * is in [0, 2^spacing) and the biased accumulator is the lanes' fields side by side, below 2^(lanes·spacing).
 */
export function laneBias(lanes: number, spacing: number, wShift: number): bigint {
  if (!splitsBiased(lanes, spacing, wShift)) return 0n
  let b = 0n
  for (let k = 0; k < lanes; k++) b |= 1n << BigInt(spacing * k + spacing - 1)
  return b
}

/**
 * Split `acc` (lanes `spacing` bits apart) into the group's outputs, each shifted back to the activation
 * scale (the bias carried the rounding half) and activated into `outAt(k)`. Biased lanes (laneBias was
 * added to `acc`): lane k is `and(shr(spacing·k + wShift, acc), 2^(spacing−wShift) − 1) − 2^(spacing−1−wShift)`,
 * the floor of (field − 2^(spacing−1)) / 2^wShift exactly (2^wShift divides the bias). Else each lane comes
 * out with SIGNEXTEND (or SHL then SAR for int4's 4-bit multiples) and is subtracted before the next.
 */
export function unpackLanes(plan: Plan, layer: LayerPlan, lanes: number, spacing: number, outAt: (k: number) => string, compact = false): string[] {
  const out: string[] = []
  const store = (k: number) => storeActivation(layer.activation, 'v', outAt(k), plan, layer.slopeQ)
  const s = layer.wShift
  if (splitsBiased(lanes, spacing, s)) {
    // `compact` (unrolled kernels, where code is deploy gas): with three lanes or more, the field mask and
    // the bias are stack variables (a DUP is one byte of code, a PUSH up to 33; a few gas of stack shuffling)
    const named = compact && lanes > 2
    const mask = named ? 'lm' : hex((1n << BigInt(spacing - s)) - 1n)
    const c = named ? 'lc' : hex(1n << BigInt(spacing - 1 - s))
    for (let k = 0; k < lanes; k++) {
      const sh = spacing * k + s
      const field = sh ? `shr(${sh}, acc)` : 'acc'
      out.push(`{ let v := sub(${k < lanes - 1 ? `and(${field}, ${mask})` : field}, ${c}) ${store(k)} }`)
    }
    return named ? [`{ let lm := ${hex((1n << BigInt(spacing - s)) - 1n)} let lc := ${hex(1n << BigInt(spacing - 1 - s))}`, ...out, '}'] : out
  }
  // lanes a whole number of bytes apart sign-extend with SIGNEXTEND; int4 lanes (4-bit multiples) with SHL then SAR
  const low = (v: string) => (spacing % 8 ? `sar(${256 - spacing}, shl(${256 - spacing}, ${v}))` : `signextend(${spacing / 8 - 1}, ${v})`)
  for (let k = 0; k < lanes; k++) {
    if (k < lanes - 1) out.push(`{ let lane := ${low('acc')} let v := sar(${s}, lane) ${store(k)} acc := sar(${spacing}, sub(acc, lane)) }`)
    else out.push(`{ let v := sar(${s}, ${lanes > 1 ? low('acc') : 'acc'}) ${store(k)} }`)
  }
  return out
}

/** Σ of `n` words in memory from `at` into a new variable `name` (a flat chain for short vectors, else a loop). */
export function sumWords(name: string, at: number, n: number): string {
  if (n <= 64) return `let ${name} := ${Array.from({ length: n }, (_, i) => `mload(${hex(at + 32 * i)})`).reduceRight((rest, t) => `add(${t}, ${rest})`, '0')}`
  const turns = Math.floor(n / 8)
  const body = Array.from({ length: 8 }, (_, u) => `mload(add(q, ${32 * u}))`).reduceRight((rest, t) => `add(${t}, ${rest})`, name)
  const rest = Array.from({ length: n - 8 * turns }, (_, u) => `mload(${hex(at + 32 * (8 * turns + u))})`).reduceRight((r, t) => `add(${t}, ${r})`, name)
  return `let ${name} := 0 for { let q := ${hex(at)} } lt(q, ${hex(at + 256 * turns)}) { q := add(q, 256) } { ${name} := ${body} } ${name} := ${rest}`
}

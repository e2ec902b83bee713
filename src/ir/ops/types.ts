import type { Activation } from '../activation.ts'

/** The numbers an op's fixed-point twin needs: the activation scale (2^F or 10^d) and the bits of quantised slopes. */
export type FixedCtx = { scale: bigint; slopeBits: number }

/**
 * The numbers an op's Yul needs, taken from the plan (codegen/dense/activationYul.ts builds it): the scale, whether
 * it is binary (2^F: shifts in place of MULs), whether exp's argument can skip its clamp, and whether the one
 * sigmoid of a dense model is written inline.
 */
export type YulCtx = FixedCtx & { F: number; binary: boolean; clampFree: boolean; sigmoidInline: boolean }

/** A Yul helper function; helpers shared by several ops (exp) are written once, in `order`. */
export type YulHelper = { name: string; order: number; text: string }

/**
 * One op, every face side by side:
 * - shape: `elementwise` keeps the shape; `vector` reads the whole output vector (softmax: the last dense layer only);
 * - float: the float64 reference (what PyTorch computes);
 * - param: the op's quantised parameter (a slope), stored in the plan, else 0;
 * - fixed: the BigInt twin, exactly what the contract computes (SAR and DIV floor, SDIV truncates);
 * - bound: the interval rule, |output| ≤ bound(p) when |input| ≤ p (fixed-point units);
 * - check: a problem (overflow of 256 bits) for inputs up to p, else undefined;
 * - expFactor: how many times its input exp's argument can be (for leaving out exp's clamp), if it uses the shared exp;
 * - yul: its helper functions, the expression of one element (`expr`) or the call over the vector (`vectorCall`);
 * - error: the approximation's own largest abs error at 2^64 (the report adds half an ulp); absent for exact ops;
 * - gas: estimated gas per output (ml2sc gas, the spend guard).
 */
export type OpDef<A extends Activation = Activation> = {
  kind: A['kind']
  shape: 'elementwise' | 'vector'
  float(y: number[], a: A): number[]
  param?(a: A, c: FixedCtx): bigint
  fixed(y: bigint[], a: A, q: bigint, c: FixedCtx): bigint[]
  bound(p: bigint, a: A, q: bigint, c: FixedCtx): bigint
  check?(p: bigint, a: A, q: bigint, c: FixedCtx): string | undefined
  expFactor?: bigint
  yul: {
    helpers(c: YulCtx): YulHelper[]
    /** Helpers written after all others (the leaky helper's historic place in the contract). */
    lateHelpers?(c: YulCtx): YulHelper[]
    expr(v: string, q: bigint): string
    /** Statements storing act(v) at `out` where an op writes itself inline (a lone sigmoid); else undefined. */
    store?(v: string, out: string, c: YulCtx): string | undefined
    vectorCall?(p: string, n: number, a: A, c: YulCtx): string
  }
  error?: number
  /** Estimated gas per output on chain (the no-chain gas estimate; measured, rounded up). */
  gas: number
}

export const hex = (v: bigint) => '0x' + v.toString(16)

/**
 * A 256-bit constant (two's complement) in the Yul with the fewest code bytes: the literal, `not(x)` of a
 * short x, or `shl(k, x)` of a power-of-two multiple, each 3 gas more per use than the literal. For constants
 * that run about once per call (a lone output sigmoid, a layer's bias word), where a code byte (~216 gas of
 * deploy) outweighs the gas; ml2sc compiles without solc's constant optimizer, which made that trade
 * everywhere, the per-element loops included.
 */
export function compactHex(v: bigint): string {
  const u = BigInt.asUintN(256, v)
  const bytes = (x: bigint) => (x === 0n ? 0 : Math.ceil(x.toString(16).length / 2))
  const forms: [number, string][] = [[1 + bytes(u), hex(u)]]
  const n = BigInt.asUintN(256, ~u)
  forms.push([2 + bytes(n), `not(${hex(n)})`])
  if (u !== 0n) {
    let k = 0n
    while (((u >> k) & 1n) === 0n) k++
    if (k >= 8n) forms.push([4 + bytes(u >> k), `shl(${k}, ${hex(u >> k)})`])
  }
  return forms.reduce((a, b) => (b[0] < a[0] ? b : a))[1]
}

/** An elementwise op's vector faces from its one-element faces. */
export const each =
  <T>(f: (v: T) => T) =>
  (y: T[]): T[] =>
    y.map(f)

/** round(x · scale) exactly for a binary scale 2^F (a decimal scale multiplies in float first, as the plan's biases). */
export function atScale(x: number, scale: bigint, quantize: (x: number, e: number) => bigint): bigint {
  const pow2 = (scale & (scale - 1n)) === 0n
  return pow2 ? quantize(x, scale.toString(2).length - 1) : quantize(x * Number(scale), 0)
}

export const absB = (v: bigint) => (v < 0n ? -v : v)
export const bitsOf = (v: bigint) => absB(v).toString(2).length

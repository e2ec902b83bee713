import type { Activation } from '../ir/types.ts'
import type { Geometry } from '../ir/tensorTypes.ts'
import type { Span } from '../ir/poolSpans.ts'

/**
 * Fixed-point plan of a convolution: like a dense LayerPlan, per output channel. The accumulator of
 * output (o, p) is bq[o] + Σ wq·x over the in-range taps (padding adds nothing), then SAR by wShift
 * (floor; the half-ulp in bq makes it round to nearest), then the activation.
 */
export type ConvPlan = Geometry & {
  kind: 'conv'
  name: string
  groups: number
  wShift: number
  /** Flat, PyTorch's order [outC][inC/groups][...kernel]: wq = round(w · 2^wShift). */
  weights: bigint[]
  /** Per output channel: round(b · 2^wShift · scale) + 2^(wShift−1). */
  biases: bigint[]
  activation: Activation
  slopeQ: bigint
  /** Lane width that holds any accumulator, and how many such lanes a 256-bit word carries (≤ outC). */
  laneBits: number
  lanes: number
  accMax: bigint
  /** Largest |output| per output channel (interval analysis). */
  outMax: bigint[]
  /** A graph: the value it reads when not the previous layer's (ir/tensorTypes.ts). */
  from?: number
  /** Per-layer weight widths (a mixed plan): this conv's bytes per stored weight. Absent: the plan's `weightBytes`. */
  weightBytes?: number
}

/**
 * Fixed-point pooling, per channel. Max pooling is exact (the largest in-range value). Average pooling
 * sums the in-range values, then divides by n (the whole window when countIncludePad, else the in-range
 * count) as `(sum · R + 2^(AVG_SHIFT−1)) >> AVG_SHIFT` with `R = floor((2^AVG_SHIFT + floor(n/2)) / n)`
 * (= round(2^AVG_SHIFT / n)) and an arithmetic (flooring) shift: one MUL, one ADD and one SAR on the
 * EVM. For n a power of two this is exactly round-half-up of sum/n; for other n it is within
 * |sum|·2^−(AVG_SHIFT+1) of sum/n + 1/2 before the floor, so it can differ from round-half-up only at exact
 * ties. The simulator and the contract compute this same integer formula.
 */
export type PoolPlan = Geometry & {
  kind: 'maxpool' | 'avgpool'
  name: string
  countIncludePad: boolean
  /** ceil_mode / adaptive windows (ir/poolSpans.ts); the average divides each window by its own divisor. */
  spans?: Span[][]
  activation: Activation
  slopeQ: bigint
  /** Largest |output| per channel. */
  outMax: bigint[]
  from?: number
}

/**
 * A residual add or channel concat of earlier values (ir/ops/tensorJoin.ts), all at the activation scale:
 * the integer sum (exact) or the words in order, then the activation. `values` as ir/tensorTypes.ts's JoinLayer.
 */
export type JoinPlan = Geometry & {
  kind: 'add' | 'concat'
  name: string
  values: number[]
  activation: Activation
  slopeQ: bigint
  /** Largest |output| per channel: the interval rule of the join, then the activation's. */
  outMax: bigint[]
}

export type TensorLayerPlan = ConvPlan | PoolPlan | JoinPlan

export const AVG_SHIFT = 64n

/** R = round(2^AVG_SHIFT / n), the average-pool reciprocal. */
export const avgReciprocal = (n: number): bigint => ((1n << AVG_SHIFT) + BigInt(n >> 1)) / BigInt(n)

/** The fixed-point average of `sum` over `n` values, as the contract computes it. */
export const avgFixed = (sum: bigint, n: number): bigint => (sum * avgReciprocal(n) + (1n << (AVG_SHIFT - 1n))) >> AVG_SHIFT

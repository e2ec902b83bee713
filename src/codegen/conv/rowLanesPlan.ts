import { bundlesOf } from './convSharedInputs.ts'
import { extraReadsOf, laneGroupsOf, tapsOf, type ConvStep, type PoolStep, type TensorStep } from './convTypes.ts'

/**
 * Lanes across output positions instead of output channels ("row lanes"): a lane word holds `lanes`
 * consecutive outputs of one row of one output channel (with a fused max pool: consecutive pooled outputs,
 * `sigma` input columns apart), and one MUL of that channel's scalar weight by a packed input word does
 * `lanes` multiply-accumulates. The packed input word P[c][y][x] holds X[c][y][x + k·sigma] in lane k; it is
 * built in place of the input tensor once per row (rowLanesPrepYul), so every tap reads it at the offset it
 * reads X at. Taken where it needs fewer lane words than lanes across channels: a conv whose output
 * channels fill their last lane group badly (8 channels in 6 + 2 lanes, say), with rows a multiple of the lanes.
 */
export type RowLanes = {
  lanes: number
  sigma: number
  /** Lane width: the step's laneBits, or narrower from the per-channel intervals of the first conv (`offsets`). */
  bits: number
  /** Per output channel, added to its lanes so that they are unsigned (−the accumulator's lower bound). */
  offsets?: bigint[]
  /** A fused max pool's merger: one compare per word (a free top bit) or even/odd lanes apart (their maxima in memory). */
  oneCompare?: boolean
}

/** Output width (pooled when a max pool is fused) and the input-column step between lanes. */
export function rowGeometry(s: ConvStep, pool?: PoolStep): { ow: number; oh: number; sigma: number } {
  return pool ? { ow: pool.outShape.w, oh: pool.outShape.h, sigma: pool.sw * s.sw } : { ow: s.outShape.w, oh: s.outShape.h, sigma: s.sw }
}

/**
 * Whether conv step i runs on row lanes: not grouped, reading its own input tensor that nothing else reads
 * and that has no halo (P is built in its place), more than one output position, an output row a multiple
 * of ≥ 2 lanes, and fewer lane words per row than its lane groups need.
 */
export function rowLanesOf(steps: readonly TensorStep[], i: number, fused: boolean[]): RowLanes | undefined {
  const s = steps[i] as ConvStep
  if (s.kind !== 'conv' || s.groups !== 1 || s.reads || s.outShape.h * s.outShape.w === 1) return undefined
  if (s.pad.top + s.pad.bottom + s.pad.left + s.pad.right > 0) return undefined
  // nothing else may read its input tensor (another branch's conv, a residual add or a concat): P is built in its place
  if (steps.some((x, j) => j !== i && extraReadsOf(x).includes(i))) return undefined
  // the tensor a fused pool's conv reads is its own input (i); a step after a fused conv is never a conv
  const pool = fused[i] ? (steps[i + 1] as PoolStep) : undefined
  // row lanes merge a max pool only (an average pool fused in runs on lane groups: avgFusion.ts)
  if (pool && pool.kind !== 'maxpool') return undefined
  const { ow, sigma } = rowGeometry(s, pool)
  const lanesAt = (bits: number) => {
    let lanes = Math.min(Math.floor(256 / bits), ow)
    while (lanes > 1 && ow % lanes) lanes--
    return lanes
  }
  // the step's own lanes: offset by half a lane (convYul.ts biasedLaneHalf), a free top bit when |acc| < 2^(b−2)
  const own = pool ? { oneCompare: s.accMax !== undefined && s.accMax < 1n << BigInt(s.laneBits - 2) } : {}
  const options: RowLanes[] = [{ lanes: lanesAt(s.laneBits), sigma, bits: s.laneBits, ...own }]
  // the first conv: each channel's accumulator lies in [lo, hi] (its inputs' range, not ±|x|max): lanes of
  // hi − lo, offset by −lo to unsigned; with a fused max pool one bit more leaves a compare's guard free
  const iv = s.inRange && channelIntervals(s, s.inRange)
  if (iv) {
    // offsets are never negative (lo ≤ 0 taken): lanes hold [0, hi − lo]; each a multiple of 2^wShift (rounded up),
    // so that an unpack folds the rescale into its shift (biasedLanes.ts unbiasedField)
    const unit = 1n << BigInt(s.wShift)
    const offsets = iv.map(([lo]) => (lo < 0n ? ((-lo + unit - 1n) / unit) * unit : 0n))
    const width = iv.reduce((m, [, hi], c) => (hi + offsets[c]! > m ? hi + offsets[c]! : m), 0n)
    const bits = width.toString(2).length
    if (pool) options.push({ lanes: lanesAt(bits + 1), sigma, bits: bits + 1, offsets, oneCompare: true }, { lanes: lanesAt(bits), sigma, bits, offsets, oneCompare: false })
    else options.push({ lanes: lanesAt(bits), sigma, bits, offsets })
  }
  // the fewest words per row; on a tie the first (the step's own lanes, then one compare)
  const best = options.filter((o) => o.lanes >= 2).reduce<RowLanes | undefined>((a, o) => (!a || ow / o.lanes < ow / a.lanes ? o : a), undefined)
  if (!best) return undefined
  return s.outShape.c * (ow / best.lanes) < laneGroupsOf(s).length * ow ? best : undefined
}

/** Per output channel, the accumulator's [lo, hi] over inputs in [mn, mx] (bias included; no padding: row lanes have none). */
function channelIntervals(s: ConvStep, [mn, mx]: [bigint, bigint]): [bigint, bigint][] {
  return s.weights.map((wc, o) => {
    let lo = s.biases[o]!
    let hi = lo
    for (const w of wc.flat(2)) {
      const [a, b] = [w * mn, w * mx]
      lo += a < b ? a : b
      hi += a < b ? b : a
    }
    return [lo, hi]
  })
}

/** Memory words of a row-lane step's scalar weights and bias words (convMemory's packed region). */
export const rowLanesWords = (s: ConvStep, rl: RowLanes) => s.outShape.c * (tapsOf(s) + 1) + (rl.oneCompare === false ? 2 * ROW_BUNDLE : 0)

/** Channels sharing one pass over the packed inputs; with the even/odd merger, each keeps its two maxima in memory. */
export const ROW_BUNDLE = 4

/** Lane-word taps of code a row-lane step takes (convNetYul's budget): every channel's taps, its window looped, per bundle of ROW_BUNDLE channels (rowLanesStepYul's). */
export const rowLanesCodeTaps = (s: ConvStep, fused: boolean) => s.outShape.c * tapsOf(s) + bundlesOf(channelGroups(s, 2), fused || undefined, ROW_BUNDLE).length * 40

/** The output channels as the lane groups of sharedBody: one channel each, `lanes` positions wide. */
export const channelGroups = (s: ConvStep, lanes: number) => Array.from({ length: s.outShape.c }, (_, c) => ({ first: c, lanes, cinFirst: 0 }))


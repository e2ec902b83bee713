import { bundlesOf } from './convSharedInputs.ts'
import { laneGroupsOf, tapsOf, type ConvStep, type PoolStep, type TensorStep } from './convTypes.ts'

/**
 * Lanes across output positions instead of output channels ("row lanes"): a lane word holds `lanes`
 * consecutive outputs of one row of one output channel (with a fused max pool: consecutive pooled outputs,
 * `sigma` input columns apart), and one MUL of that channel's scalar weight by a packed input word does
 * `lanes` multiply-accumulates. The packed input word P[c][y][x] holds X[c][y][x + k·sigma] in lane k; it is
 * built in place of the input tensor once per row (rowLanesPrepYul), so every tap reads it at the offset it
 * reads X at. Taken where it needs fewer lane words than lanes across channels: a conv whose output
 * channels fill their last lane group badly (8 channels in 6 + 2 lanes, say), with rows a multiple of the lanes.
 */
export type RowLanes = { lanes: number; sigma: number }

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
  if (steps.some((x) => x.kind === 'conv' && x.reads?.includes(i))) return undefined
  // the tensor a fused pool's conv reads is its own input (i); a step after a fused conv is never a conv
  const pool = fused[i] ? (steps[i + 1] as PoolStep) : undefined
  const { ow, sigma } = rowGeometry(s, pool)
  const most = Math.floor(256 / s.laneBits)
  let lanes = Math.min(most, ow)
  while (lanes > 1 && ow % lanes) lanes--
  if (lanes < 2) return undefined
  const rowWords = s.outShape.c * (ow / lanes)
  return rowWords < laneGroupsOf(s).length * ow ? { lanes, sigma } : undefined
}

/** Memory words of a row-lane step's scalar weights and bias words (convMemory's packed region). */
export const rowLanesWords = (s: ConvStep) => s.outShape.c * (tapsOf(s) + 1)

/** Lane-word taps of code a row-lane step takes (convNetYul's budget): every channel's taps, its window looped. */
export const rowLanesCodeTaps = (s: ConvStep, fused: boolean) => s.outShape.c * tapsOf(s) + bundlesOf(channelGroups(s, 2), fused || undefined).length * 40

/** The output channels as the lane groups of sharedBody: one channel each, `lanes` positions wide. */
export const channelGroups = (s: ConvStep, lanes: number) => Array.from({ length: s.outShape.c }, (_, c) => ({ first: c, lanes, cinFirst: 0 }))


import type { Plan } from '../../fixed/types.ts'
import { bufferWords, type ConvMemory } from './convMemory.ts'
import { extraReadsOf, isJoinStep, tapsOf, laneGroupsOf, type ConvStep, type PoolStep, type TensorStep } from './convTypes.ts'
import { joinStepYul } from './joinYul.ts'
import { biasedLaneHalf, commutesWithMax, convPackYul, convStepYul, decodeInputYul, fusesPool, unpackLanes, WINDOW_UNROLL } from './convYul.ts'
import { fillHalosYul, poolStepYul } from './poolYul.ts'
import { rowLanesDecodeYul, rowLanesPackYul, rowLanesPrepYul, rowLanesStepYul } from './rowLanes.ts'
import { rowLanesCodeTaps, rowLanesOf } from './rowLanesPlan.ts'

const GROUP_CODE_TAPS = 16
const FUSED_CODE_TAPS = 24
/** A fused average pool's code per lane group beyond the unpack it replaces: each lane's division and store. */
const AVG_CODE_TAPS = 8

/** Lane-word taps (summed over conv steps) that get their own code with constant weight addresses. */
export const DEFAULT_TAP_BUDGET = 640

/**
 * Which conv steps get per-lane-group code with constant weight addresses: those with the most output
 * positions first (their taps run most often), while the total stays within `budget` taps of code
 * (each ≈ 12 bytes; EIP-170 caps the contract at 24,576 bytes).
 */
export function unrolledSteps(steps: TensorStep[], budget = DEFAULT_TAP_BUDGET): boolean[] {
  const fused = fusedPools(steps)
  const order = steps
    .map((s, i) => ({ s, i }))
    .filter((x): x is { s: ConvStep; i: number } => x.s.kind === 'conv')
    .sort((a, b) => b.s.outShape.h * b.s.outShape.w - a.s.outShape.h * a.s.outShape.w)
  const out = steps.map(() => false)
  let left = budget
  for (const { s, i } of order) {
    const p = steps[i + 1]
    const window = fused[i] && p && p.kind !== 'conv' && p.kh * p.kw <= WINDOW_UNROLL ? p.kh * p.kw : 1
    // each lane group with its own code also repeats its position loops and lane unpacking (≈ 16 taps' worth; a fused pool's compare and unbias ≈ 24 more)
    const cost = rowLanesOf(steps, i, fused) ? rowLanesCodeTaps(s, fused[i]!) : laneGroupsOf(s).length * (tapsOf(s) * window + GROUP_CODE_TAPS + (fused[i] ? FUSED_CODE_TAPS : avgFusable(steps, i, fused) ? AVG_CODE_TAPS : 0))
    if (cost <= left && s.outShape.h * s.outShape.w > 1) {
      out[i] = true
      left -= cost
    }
  }
  return out
}

export type ConvNetYul = {
  /** Once per transaction, after the blob is in memory: halos and lane words. */
  perTx: string
  /** One row at calldata offset `rp`; leaves the outputs (C order, one word each) in the last tensor. */
  perRow: string
}

/** Per step: whether it is a conv that absorbs the max pool after it (convMemory and convNetYul must agree). */
export const fusedPools = (steps: TensorStep[]) => {
  // a conv whose own output a later step reads too (a residual skip) is stored: it cannot absorb its pool
  const read = new Set(steps.flatMap(extraReadsOf))
  return steps.map((_, i) => fusesPool(steps, i) && !read.has(i + 1))
}

/**
 * Whether step i (a conv on lane groups) can absorb the average pool after it (avgFusion.ts): non-overlapping
 * windows without padding, dilation or explicit spans, an elementwise activation, more than one position, and
 * no other reader of the conv's output.
 */
function avgFusable(steps: TensorStep[], i: number, fused: boolean[]): boolean {
  const s = steps[i] as ConvStep
  const p = steps[i + 1]
  if (s.kind !== 'conv' || !p || p.kind !== 'avgpool' || p.spans || fused[i]) return false
  if (steps.flatMap((x) => extraReadsOf(x)).includes(i + 1)) return false
  const noPad = p.pad.top + p.pad.bottom + p.pad.left + p.pad.right === 0
  return noPad && p.dh === 1 && p.dw === 1 && p.kh === p.sh && p.kw === p.sw && commutesWithMax(s) && s.outShape.h * s.outShape.w > 1 && !rowLanesOf(steps, i, fused)
}

/** Per step: whether it is a conv with its own code (unrolledSteps) that absorbs the average pool after it. */
export function fusedAvgPools(steps: TensorStep[], budget = DEFAULT_TAP_BUDGET): boolean[] {
  const fused = fusedPools(steps)
  const unrolled = unrolledSteps(steps, budget)
  return steps.map((_, i) => unrolled[i]! && avgFusable(steps, i, fused))
}

export function convNetYul(steps: TensorStep[], plan: Plan, mem: ConvMemory, budget = DEFAULT_TAP_BUDGET): ConvNetYul {
  const unrolled = unrolledSteps(steps, budget)
  const fused = fusedPools(steps)
  // an average pool fused in: the memory map gave the conv its sums (convInference.ts decides, by fusedAvgPools)
  const avg = steps.map((_, i) => mem.packed[i]?.sums !== undefined)
  // lanes across output positions where they take fewer lane words (rowLanesPlan.ts); unrolled steps only
  const rowLanes = steps.map((_, i) => (unrolled[i] ? rowLanesOf(steps, i, fused) : undefined))
  const rowPacks = steps.flatMap((s, i) => (rowLanes[i] ? [rowLanesPackYul(s as ConvStep, i, mem, rowLanes[i]!, plan.weightBytes, plan.biasBytes, fused[i] ? biasedLaneHalf(s as ConvStep) : undefined)] : []))
  const perTx = [fillHalosYul(mem), convPackYul(steps, mem, plan.weightBytes, plan.biasBytes, fused, rowLanes.map(Boolean)), ...rowPacks].filter(Boolean).join('\n                ')
  // a first step on row lanes decodes the calldata straight into its packed words
  const first = rowLanes[0]
  const rows = [first ? rowLanesDecodeYul(steps[0] as ConvStep, mem, first, plan.inputBytes, plan.inputUnsigned === true) : decodeInputYul(mem.tensors[0]!, plan.inputBytes, plan.inputUnsigned === true)]
  steps.forEach((s, i) => {
    if (i > 0 && (fused[i - 1] || avg[i - 1])) return
    if (mem.joined[i]) rows.push(joinTensorsYul(s as ConvStep, mem, mem.joined[i]!.at))
    if (isJoinStep(s)) return void rows.push(joinStepYul(s, i, mem))
    const pool = fused[i] || avg[i] ? (steps[i + 1] as PoolStep) : undefined
    const rl = rowLanes[i]
    if (rl) {
      const c = s as ConvStep
      if (i > 0) rows.push(rowLanesPrepYul(c, i, mem, rl))
      rows.push(rowLanesStepYul(c, i, plan, mem, rl, pool, biasedLaneHalf(c), (lanes, outAt) => unpackLanes(c, lanes, outAt)))
    } else rows.push(s.kind === 'conv' ? convStepYul(s, i, plan, mem, unrolled[i]!, pool) : poolStepYul(s, i, mem))
  })
  return { perTx, perRow: rows.join('\n                ') }
}

/** Yul copying the tensors a dense step reads (each unpadded, C order) one after another to `to`: a multi-output model's `heads` layer input. */
function joinTensorsYul(s: ConvStep, mem: ConvMemory, to: number): string {
  const lines = [`// ${s.name} reads tensors ${s.reads!.join(', ')}, concatenated`]
  let offset = 0
  for (const r of s.reads!) {
    const b = mem.tensors[r]!
    const n = bufferWords(b)
    if (n !== b.shape.c * b.shape.h * b.shape.w) throw new Error(`unreachable: tensor ${r} read by '${s.name}' has a halo`)
    lines.push(`for { let jo := 0 } lt(jo, ${hex(32 * n)}) { jo := add(jo, 32) } { mstore(add(${hex(to + 32 * offset)}, jo), mload(add(${hex(b.at)}, jo))) }`)
    offset += n
  }
  return lines.join('\n                ')
}

const hex = (n: number) => '0x' + n.toString(16)

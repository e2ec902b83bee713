import type { Plan } from '../fixed/types.ts'
import type { ConvMemory } from './convMemory.ts'
import { tapsOf, laneGroupsOf, type ConvStep, type TensorStep } from './convTypes.ts'
import { convPackYul, convStepYul, decodeInputYul } from './convYul.ts'
import { fillHalosYul, poolStepYul } from './poolYul.ts'

/** Lane-word taps (summed over conv steps) that get their own code with constant weight addresses. */
export const DEFAULT_TAP_BUDGET = 640

/**
 * Which conv steps get per-lane-group code with constant weight addresses: those with the most output
 * positions first (their taps run most often), while the total stays within `budget` taps of code
 * (each ≈ 12 bytes; EIP-170 caps the contract at 24,576 bytes).
 */
export function unrolledSteps(steps: TensorStep[], budget = DEFAULT_TAP_BUDGET): boolean[] {
  const order = steps
    .map((s, i) => ({ s, i }))
    .filter((x): x is { s: ConvStep; i: number } => x.s.kind === 'conv')
    .sort((a, b) => b.s.outShape.h * b.s.outShape.w - a.s.outShape.h * a.s.outShape.w)
  const out = steps.map(() => false)
  let left = budget
  for (const { s, i } of order) {
    const cost = laneGroupsOf(s).length * tapsOf(s)
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

export function convNetYul(steps: TensorStep[], plan: Plan, mem: ConvMemory, budget = DEFAULT_TAP_BUDGET): ConvNetYul {
  const unrolled = unrolledSteps(steps, budget)
  const perTx = [fillHalosYul(mem), convPackYul(steps, mem, plan.weightBytes, plan.biasBytes)].filter(Boolean).join('\n                ')
  const rows = [decodeInputYul(mem.tensors[0]!, plan.inputBytes)]
  steps.forEach((s, i) => rows.push(s.kind === 'conv' ? convStepYul(s, i, plan, mem, unrolled[i]!) : poolStepYul(s, i, plan, mem)))
  return { perTx, perRow: rows.join('\n                ') }
}

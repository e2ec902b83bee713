import { avgReciprocal } from '../../fixed/tensorPlanTypes.ts'
import { activationExpr } from '../dense/activationYul.ts'
import { biasedLaneValue } from './biasedLanes.ts'
import type { ConvStep, PoolStep } from './convTypes.ts'

/**
 * An average pool fused into the conv before it (convNetYul.ts fusedAvgPools): the conv runs window by window
 * (the pool's non-overlapping windows, one position at a time), each position's lanes are unpacked and activated
 * as the conv's own output would be (biasedLaneValue, the conv's activation) and summed per channel in memory
 * words at fixed addresses (`slot`), and each window's sum is divided as the pool step divides it: avgDivide's
 * (sum · round(2^64/n) + 2^63) >> 64, the simulator's formula, then the pool's activation. The same integers as
 * the conv writing its tensor and the pool reading it back, without that tensor in memory.
 * The shape of convSharedInputs.ts MaxMerger: `first` starts a window's sums, `merge` adds a position to them.
 */
export function avgMerger(s: ConvStep, pool: PoolStep, lanes: number, slot: (k: number) => string, outAt: (k: number) => string): { decl: string; first: (acc: string) => string; merge: (acc: string) => string; finish: string[] } {
  const convAct = activationExpr(s.activation, 'v', s.slopeQ)
  const poolAct = activationExpr(pool.activation, 'u', pool.slopeQ)
  const R = '0x' + avgReciprocal(pool.kh * pool.kw).toString(16)
  const each = (acc: string, to: (k: number) => string) => Array.from({ length: lanes }, (_, k) => `{ let v := ${biasedLaneValue(s, lanes, k, acc)} ${to(k)} }`).join(' ')
  return {
    decl: '',
    first: (acc) => each(acc, (k) => `mstore(${slot(k)}, ${convAct})`),
    merge: (acc) => each(acc, (k) => `mstore(${slot(k)}, add(mload(${slot(k)}), ${convAct}))`),
    finish: Array.from({ length: lanes }, (_, k) => `{ let u := sar(64, add(mul(mload(${slot(k)}), ${R}), shl(63, 1))) mstore(${outAt(k)}, ${poolAct}) }`),
  }
}

import { NumericsError } from '../errors/base.ts'
import type { EncoderBlock, LayerNormAct } from '../ir/attentionTypes.ts'
import { opOf } from '../ir/ops/index.ts'
import type { AttentionBlock } from './attentionPlanTypes.ts'

const maxOf = (v: bigint[]) => v.reduce((a, b) => (a > b ? a : b), 0n)

/** A LayerNorm's output bound for inputs up to p, after its overflow check (ir/ops/layerNorm.ts). */
export function lnBound(ln: LayerNormAct, p: bigint, ctx: { scale: bigint; slopeBits: number }, where: string): bigint {
  const problem = opOf(ln).check?.(p, ln, 0n, ctx)
  if (problem) throw new NumericsError(`${where}: ${problem}`, { hint: 'use a narrower precision.inputs or precision.weights' })
  return opOf(ln).bound(p, ln, 0n, ctx)
}

/**
 * Interval analysis of a TransformerEncoderLayer after its attention (whose out_proj rows reach `attnOut`),
 * building its ff1/ff2 blocks with `block` (block indices 3, 4): the residual adds bounds; a LayerNorm's
 * output is bounded by √(E − 1)·|γ| + |β| whatever its input (ir/ops/layerNorm.ts), once its input is
 * checked not to overflow; the activation's own interval rule bounds ff1's outputs. Returns |y| per feature.
 */
export function encoderPlan(
  enc: EncoderBlock,
  inputAbsMax: bigint,
  attnOut: bigint[],
  ctx: { scale: bigint; slopeBits: number },
  where: string,
  block: (name: AttentionBlock['name'], k: number, w: number[][], b: number[], xMax: bigint[]) => bigint[],
): bigint[] {
  const E = attnOut.length
  const r1 = attnOut.map((v) => v + inputAbsMax)
  const ff = (inMax: bigint[]) => {
    const pre = block('ff1', 3, enc.ff1.weight, enc.ff1.bias, inMax)
    const op = opOf(enc.act)
    const problem = op.check?.(maxOf(pre), enc.act, 0n, ctx)
    if (problem) throw new NumericsError(`${where} (feed-forward): ${problem}`, { hint: 'use a narrower precision.inputs or precision.weights' })
    const act = pre.map((p) => op.bound(p, enc.act, 0n, ctx))
    return block('ff2', 4, enc.ff2.weight, enc.ff2.bias, act)
  }
  if (enc.normFirst) {
    const f = ff(new Array<bigint>(E).fill(lnBound(enc.norm2, maxOf(r1), ctx, where)))
    return r1.map((v, c) => v + f[c]!)
  }
  const h = lnBound(enc.norm1, maxOf(r1), ctx, where)
  const f = ff(new Array<bigint>(E).fill(h))
  return new Array<bigint>(E).fill(lnBound(enc.norm2, maxOf(f) + h, ctx, where))
}

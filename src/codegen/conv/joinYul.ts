import { opOf } from '../../ir/ops/index.ts'
import { joinFixed } from '../../ir/ops/tensorJoin.ts'
import type { Plan } from '../../fixed/types.ts'
import { activationExpr } from '../dense/activationYul.ts'
import { addrOf, planeBytes, type ConvMemory, type TensorBuffer } from './convMemory.ts'
import type { JoinStep } from './convTypes.ts'

const h = (n: number) => '0x' + n.toString(16)
const at = (base: string, off: number) => (off ? `add(${base}, ${h(off)})` : base)
/** Rows of at most this many values are unrolled (one MLOAD per operand, the ADDs and one MSTORE per value). */
const ROW_UNROLL = 32

/**
 * Yul for one residual add or channel concat of one row (ir/ops/tensorJoin.ts): every value is at the one
 * activation scale, so `a + b` is one ADD (the plan's interval analysis proved |a + b| < 2^254) and a
 * concat moves words. Each operand is read where it lies (its buffer may keep a halo for the conv that
 * reads it next); the result is written inside the output's halo. A row of values is unrolled at constant
 * offsets; where no buffer has a halo, one loop runs over all the rows, else a loop per channel and row.
 */
export function joinStepYul(s: JoinStep, i: number, mem: ConvMemory): string {
  const outB = mem.tensors[i + 1]!
  const act = (v: string) => activationExpr(s.activation, v, s.slopeQ)
  const parts = s.kind === 'add' ? [{ reads: s.reads.map((r) => mem.tensors[r]!), c0: 0, C: s.outShape.c }] : concatParts(s, mem)
  const lines = [`// ${s.name}: ${s.kind === 'add' ? `add of tensors ${s.reads.join(' + ')}` : `channel concat of tensors ${s.reads.join(', ')}`}, ${s.outShape.c}×${s.outShape.h}×${s.outShape.w}`]
  const W = s.outShape.w
  for (const { reads, c0, C } of parts) {
    const value = (x: number) => reads.map((_, k) => `mload(${at(`a${k}`, 32 * x)})`).reduceRight((rest, t) => `add(${t}, ${rest})`)
    // one row of W values: unrolled at constant offsets (short rows), else a loop over it
    const row =
      W <= ROW_UNROLL
        ? Array.from({ length: W }, (_, x) => `{ let v := ${value(x)} mstore(${at('yo', 32 * x)}, ${act('v')}) }`).join(' ')
        : `for { let q := 0 } lt(q, ${h(32 * W)}) { q := add(q, 32) } { let v := ${reads.map((_, k) => `mload(add(a${k}, q))`).reduceRight((rest, t) => `add(${t}, ${rest})`)} mstore(add(yo, q), ${act('v')}) }`
    const advance = (by: number) => ['yo', ...reads.map((_, k) => `a${k}`)].map((p) => `${p} := add(${p}, ${h(by)})`).join(' ')
    if ([outB, ...reads].every(noHalo)) {
      // no halo anywhere: the channel block is C·H rows one after another in every buffer
      const init = reads.map((b, k) => `let a${k} := ${h(addrOf(b, 0, 0, 0))}`).join(' ')
      const start = addrOf(outB, c0, 0, 0)
      lines.push(`{ ${init} for { let yo := ${h(start)} let e := ${h(start + 32 * C * s.outShape.h * W)} } lt(yo, e) { ${advance(32 * W)} } { ${row} } }`)
      continue
    }
    // a halo somewhere: each buffer's row start from its own plane and row sizes
    const rowAt = (b: TensorBuffer, c: number) => `add(add(${h(addrOf(b, c, 0, 0))}, mul(jc, ${h(planeBytes(b))})), mul(jy, ${h(32 * b.wp)}))`
    lines.push(`for { let jc := 0 } lt(jc, ${C}) { jc := add(jc, 1) } {
                    for { let jy := 0 } lt(jy, ${s.outShape.h}) { jy := add(jy, 1) } {
                        ${reads.map((b, k) => `let a${k} := ${rowAt(b, 0)}`).join(' ')} let yo := ${rowAt(outB, c0)}
                        ${row}
                    }
                }`)
  }
  return lines.join('\n                ')
}

const noHalo = (b: TensorBuffer) => b.pad.top + b.pad.bottom + b.pad.left + b.pad.right === 0

/** A concat: each operand's channels copied to the output's channels from c0 on. */
function concatParts(s: JoinStep, mem: ConvMemory): { reads: TensorBuffer[]; c0: number; C: number }[] {
  let c0 = 0
  return s.reads.map((r) => {
    const b = mem.tensors[r]!
    const part = { reads: [b], c0, C: b.shape.c }
    c0 += b.shape.c
    return part
  })
}

/** What joinStepYul computes, in BigInt (convReference's twin of the step): the join's fixed face, then the activation. */
export function joinRef(s: JoinStep, plan: Pick<Plan, 'scale' | 'slopeBits'>, parts: bigint[][]): bigint[] {
  return opOf(s.activation).fixed(joinFixed(s.kind, parts), s.activation, s.slopeQ, plan)
}

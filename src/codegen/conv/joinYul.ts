import { opOf } from '../../ir/ops/index.ts'
import { joinFixed } from '../../ir/ops/tensorJoin.ts'
import type { Plan } from '../../fixed/types.ts'
import { activationExpr } from '../dense/activationYul.ts'
import { addrOf, planeBytes, type ConvMemory, type TensorBuffer } from './convMemory.ts'
import type { JoinStep } from './convTypes.ts'

const h = (n: number) => '0x' + n.toString(16)

/**
 * Yul for one residual add or channel concat of one row (ir/ops/tensorJoin.ts): every value is at the one
 * activation scale, so `a + b` is one ADD (the plan's interval analysis proved |a + b| < 2^254) and a
 * concat moves words. Each operand is read where it lies (its buffer may keep a halo for the conv that
 * reads it next); the result is written inside the output's halo. Where no buffer has a halo, a channel
 * block is one run of words and one loop covers it; else a loop per row.
 */
export function joinStepYul(s: JoinStep, i: number, mem: ConvMemory): string {
  const outB = mem.tensors[i + 1]!
  const act = (v: string) => activationExpr(s.activation, v, s.slopeQ)
  const parts = s.kind === 'add' ? [{ reads: s.reads.map((r) => mem.tensors[r]!), c0: 0, C: s.outShape.c }] : concatParts(s, mem)
  const lines = [`// ${s.name}: ${s.kind === 'add' ? `add of tensors ${s.reads.join(' + ')}` : `channel concat of tensors ${s.reads.join(', ')}`}, ${s.outShape.c}×${s.outShape.h}×${s.outShape.w}`]
  for (const { reads, c0, C } of parts) {
    const value = reads.map((_, k) => `mload(a${k})`).reduceRight((rest, t) => `add(${t}, ${rest})`)
    const body = `{ let v := ${value} mstore(yo, ${act('v')}) }`
    const step = ['yo', ...reads.map((_, k) => `a${k}`)].map((p) => `${p} := add(${p}, 32)`).join(' ')
    const flat = [outB, ...reads].every(noHalo)
    if (flat) {
      const n = C * s.outShape.h * s.outShape.w
      const init = reads.map((b, k) => `let a${k} := ${h(addrOf(b, 0, 0, 0))}`).join(' ')
      lines.push(`{ ${init} for { let yo := ${h(addrOf(outB, c0, 0, 0))} let e := ${h(addrOf(outB, c0, 0, 0) + 32 * n)} } lt(yo, e) { ${step} } ${body} }`)
      continue
    }
    // one loop per row: each buffer's row start from its own plane and row sizes
    const rowAt = (b: TensorBuffer, c: number) => `add(add(${h(addrOf(b, c, 0, 0))}, mul(jc, ${h(planeBytes(b))})), mul(jy, ${h(32 * b.wp)}))`
    lines.push(`for { let jc := 0 } lt(jc, ${C}) { jc := add(jc, 1) } {
                    for { let jy := 0 } lt(jy, ${s.outShape.h}) { jy := add(jy, 1) } {
                        ${reads.map((b, k) => `let a${k} := ${rowAt(b, 0)}`).join(' ')}
                        for { let yo := ${rowAt(outB, c0)} let e := add(yo, ${h(32 * s.outShape.w)}) } lt(yo, e) { ${step} } ${body}
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

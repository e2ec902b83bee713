import { ModelError } from '../../errors/base.ts'
import { addrOf, bufferWords, planeBytes, type ConvMemory, type TensorBuffer } from './convMemory.ts'
import { activationExpr } from '../dense/activationYul.ts'
import type { PoolStep } from './convTypes.ts'
import { spanWindows } from '../../ir/poolSpans.ts'

const h = (n: number) => '0x' + n.toString(16)
const at = (base: string, off: number) => (off ? `add(${base}, ${h(off)})` : base)
/** Windows of at most this many values are unrolled; bigger ones (global pooling) loop over window rows. */
const WINDOW_INLINE = 64

/** 2^AVG_SHIFT: average pooling divides by n as (sum · round(2^64 / n) + 2^63) >> 64 (floor shift). */
export const AVG_SHIFT = 64n

/** R = round(2^64 / n), the average-pool reciprocal. */
export const avgReciprocal = (n: number): bigint => ((1n << AVG_SHIFT) + BigInt(n >> 1)) / BigInt(n)

/** The fixed-point average of `sum` over `n` values: the simulator's formula (fixed/tensorPlanTypes.ts avgFixed). */
export const avgDivide = (sum: bigint, n: number): bigint => (sum * avgReciprocal(n) + (1n << (AVG_SHIFT - 1n))) >> AVG_SHIFT

/** Yul of avgDivide for a constant n (R folded), or a run-time n (R computed with one DIV). */
export function avgDivideYul(sum: string, n: number | string): string {
  const R = typeof n === 'number' ? '0x' + avgReciprocal(n).toString(16) : `div(add(shl(64, 1), shr(1, ${n})), ${n})`
  return `sar(64, add(mul(${sum}, ${R}), shl(63, 1)))`
}

/**
 * Yul for a pool with explicit windows (ceil_mode, adaptive: ir/poolSpans.ts), per channel in a loop:
 * every output position unrolled, its window's reads at constant offsets from the channel's plane, the
 * average divided by that window's own divisor (avgDivide with R folded).
 */
function spanPoolYul(s: PoolStep, inB: TensorBuffer, outB: TensorBuffer): string {
  const W = s.inShape.w
  const windows = spanWindows(s.spans!, W)
  const read = (o: number) => at('p', 32 * ((Math.floor(o / W) + inB.pad.top) * inB.wp + (o % W) + inB.pad.left))
  const body = windows.map(({ offsets, div }, k) => {
    const dst = at('yo', 32 * ((Math.floor(k / s.outShape.w) + outB.pad.top) * outB.wp + (k % s.outShape.w) + outB.pad.left))
    if (s.kind === 'maxpool') {
      const cmp = offsets.slice(1).map((o) => `{ let v := mload(${read(o)}) if sgt(v, m) { m := v } }`).join(' ')
      const a = activationExpr(s.activation, 'm', s.slopeQ)
      return `{ let m := mload(${read(offsets[0]!)}) ${cmp} mstore(${dst}, ${a}) }`
    }
    const sum = offsets.map((o) => `mload(${read(o)})`).reduceRight((rest, t) => `add(${t}, ${rest})`)
    const a = activationExpr(s.activation, 'v', s.slopeQ)
    return `{ let v := ${avgDivideYul(sum, div)} mstore(${dst}, ${a}) }`
  })
  return `// ${s.name}: ${s.kind} over ${windows.length} explicit windows (ceil_mode / adaptive), ${s.inShape.c}×${s.inShape.h}×${s.inShape.w} → ${s.outShape.c}×${s.outShape.h}×${s.outShape.w}
                for { let c := 0 } lt(c, ${s.outShape.c}) { c := add(c, 1) } {
                    let p := add(${h(inB.at)}, mul(c, ${h(planeBytes(inB))}))
                    let yo := add(${h(outB.at)}, mul(c, ${h(planeBytes(outB))}))
                    ${body.join('\n                    ')}
                }`
}

/** Yul for one pooling step of one row: max (signed) or average over each window, per channel. */
export function poolStepYul(s: PoolStep, i: number, mem: ConvMemory): string {
  const inB = mem.tensors[i]!
  const outB = mem.tensors[i + 1]!
  if (s.spans) return spanPoolYul(s, inB, outB)
  const padded = s.pad.top + s.pad.bottom + s.pad.left + s.pad.right > 0
  // ONNX's default: divide by the in-range positions of each window, counted at run time
  const inRangeOnly = s.kind === 'avgpool' && padded && !s.countIncludePad
  const inPlane = planeBytes(inB)
  const outPlane = planeBytes(outB)
  const n = s.kh * s.kw
  const off = (r: number) => 32 * (Math.floor(r / s.kw) * s.dh * inB.wp + (r % s.kw) * s.dw)
  const lines: string[] = []
  let result: string
  if (n <= WINDOW_INLINE) {
    if (s.kind === 'maxpool') {
      lines.push('let m := mload(p)')
      for (let r = 1; r < n; r++) lines.push(`{ let v := mload(${at('p', off(r))}) if sgt(v, m) { m := v } }`)
      result = 'm'
    } else {
      const terms = Array.from({ length: n }, (_, r) => `mload(${at('p', off(r))})`)
      lines.push(`let m := ${terms.reduceRight((rest, t) => `add(${t}, ${rest})`)}`)
      result = avgDivideYul('m', inRangeOnly ? 'cnt' : n)
    }
  } else {
    if (s.dh !== 1 || s.dw !== 1) throw new ModelError(`layer '${s.name}': a dilated pooling window of ${n} values is too large to compile`, { where: s.name, hint: 'use a smaller window' })
    const row = Array.from({ length: s.kw }, (_, r) => `mload(${at('q', 32 * r)})`)
    if (s.kind === 'maxpool') {
      lines.push('let m := mload(p)')
      lines.push(`for { let q := p let qe := add(p, ${h(32 * s.kh * inB.wp)}) } lt(q, qe) { q := add(q, ${h(32 * inB.wp)}) } { ${row.map((r) => `{ let v := ${r} if sgt(v, m) { m := v } }`).join(' ')} }`)
      result = 'm'
    } else {
      lines.push('let m := 0')
      lines.push(`for { let q := p let qe := add(p, ${h(32 * s.kh * inB.wp)}) } lt(q, qe) { q := add(q, ${h(32 * inB.wp)}) } { m := ${row.reduceRight((rest, t) => `add(${t}, ${rest})`, 'm')} }`)
      result = avgDivideYul('m', inRangeOnly ? 'cnt' : n)
    }
  }
  if (inRangeOnly) {
    const count = (pos: string, st: number, pad: number, k: number, d: number, size: number) =>
      `{ let a := sub(mul(${pos}, ${st}), ${pad}) let b := add(a, ${(k - 1) * d + 1}) if slt(a, 0) { a := add(a, mul(${d}, div(add(sub(0, a), ${d - 1}), ${d}))) } if sgt(b, ${size}) { b := ${size} } c${pos} := add(div(sub(sub(b, a), 1), ${d}), 1) }`
    lines.unshift(`let coy := 0 let cox := 0 ${count('oy', s.sh, s.pad.top, s.kh, s.dh, s.inShape.h)} ${count('ox', s.sw, s.pad.left, s.kw, s.dw, s.inShape.w)} let cnt := mul(coy, cox)`)
  }
  const act = activationExpr(s.activation, 'v', s.slopeQ)
  lines.push(act === 'v' ? `mstore(yo, ${result})` : `{ let v := ${result} mstore(yo, ${act}) }`)
  const { c: C, h: OH, w: OW } = s.outShape
  return `// ${s.name}: ${s.kind} ${s.kh}×${s.kw} stride ${s.sh}×${s.sw}, ${s.inShape.c}×${s.inShape.h}×${s.inShape.w} → ${C}×${OH}×${OW}
                for { let c := 0 } lt(c, ${C}) { c := add(c, 1) } {
                    for { let oy := 0 } lt(oy, ${OH}) { oy := add(oy, 1) } {
                        let p := add(add(${h(inB.at)}, mul(c, ${h(inPlane)})), mul(oy, ${h(32 * s.sh * inB.wp)}))
                        let yo := add(add(${h(addrOf(outB, 0, 0, 0))}, mul(c, ${h(outPlane)})), mul(oy, ${h(32 * outB.wp)}))
                        for { let e := add(p, ${h(32 * s.sw * OW)})${inRangeOnly ? ' let ox := 0' : ''} } lt(p, e) { p := add(p, ${h(32 * s.sw)}) yo := add(yo, 32)${inRangeOnly ? ' ox := add(ox, 1)' : ''} } {
                            ${lines.join('\n                            ')}
                        }
                    }
                }`
}

/** Yul, once per transaction: fill the buffers that max pooling reads with padding with the smallest int256. */
export function fillHalosYul(mem: ConvMemory): string {
  return mem.tensors
    .filter((b) => b.fillMin)
    .map((b) => `for { let q := ${h(b.at)} let e := ${h(b.at + 32 * bufferWords(b))} } lt(q, e) { q := add(q, 32) } { mstore(q, shl(255, 1)) }`)
    .join('\n                ')
}

export type { TensorBuffer }

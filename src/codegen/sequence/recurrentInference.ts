import { ConfigError } from '../../errors/base.ts'
import type { Plan } from '../../fixed/types.ts'
import type { InferenceParts } from '../conv/convInference.ts'
import { hex as h } from '../dense/laneKernel.ts'
import { cellsOf, isFinal, layersOf, readoutOf } from '../../ir/recurrentTypes.ts'
import { recurrentBlobLayout, type BlockLayout } from './recurrentBlob.ts'
import { blockGroupsYul } from './blockGroupsYul.ts'
import { denseLayersYul } from './denseLayersYul.ts'

const words = (bytes: number) => Math.ceil(bytes / 32) * 32
/** Inputs of at most this many values are decoded without a loop. */
const UNROLL_DECODE = 64

/**
 * The kernel of a sequence model (a GRU/LSTM then dense layers), with SIMD lanes across each block's rows:
 * each lane group's lane words (one per column: that column's weight for every row of the group) and bias
 * word are read where the blob lies in memory (recurrentBlob.ts), no packing per transaction; per row, the
 * window is decoded, h (and c) start at 0, and a loop over the T steps computes every gate block (one MUL
 * per lane word), the gates' sigmoid/tanh as the lanes are split, then the update of each hidden unit
 * (recurrentPlanTypes.ts has the exact integer formulas, fixed/recurrent.ts the twin). One direction: one
 * loop runs the stacked layers step by step. Bidirectional: a loop per layer and direction (the reverse one
 * from the last step down), each layer's states stored as its output sequence [T][2H] for the layer above.
 * The dense layers then read the readout's states where they lie (a cell's final h, or the sequence).
 */
export function recurrentInference(plan: Plan, opts: { layout: string }): InferenceParts {
  if (opts.layout === 'code')
    throw new ConfigError('weights.layout `code` is not available for sequence models', { where: 'weights.layout', hint: 'use `datacontract` (the default) or `storage`' })
  const r = plan.recurrent!
  const { hidden: H, features: F, steps: T } = r
  const blob = 0xa0
  const layout = recurrentBlobLayout(plan)
  let at = blob + words(layout.length) + 32
  const alloc = (n: number) => ((at += 32 * n), at - 32 * n)
  // lane words in the blob: per group, the bias word then one word per column
  const packed = layout.blocks.map((b) => b.groups.map((g) => blob + g.wordsAt))
  const X = alloc(T * F)
  // per cell (bottom layer first, forward before reverse): its h (and c) and its blocks' outputs; the cells' blocks come first in the blob
  const cells = cellsOf(r)
  const layers = layersOf(r)
  const D = r.reverse ? 2 : 1
  const cellMem = cells.map((c) => ({ Hb: alloc(H), Cb: alloc(H), bufs: c.blocks.map((b) => alloc(b.rows.length)) }))
  const cellAt = (l: number, d: number) => l * D + d
  const firstBlock = cells.map((_, ci) => cells.slice(0, ci).reduce((n, c) => n + c.blocks.length, 0))
  const nRec = firstBlock[cells.length - 1]! + cells[cells.length - 1]!.blocks.length
  // each layer's output sequence [T][D·H], where the layer above (bidirectional) or the readout needs it
  const pieces = readoutOf(r)
  const seqAt = layers.map((_, l) => ((D === 2 && l < layers.length - 1) || pieces.some((p) => p.layer === l && !isFinal(p, T)) ? alloc(T * D * H) : -1))
  const readAt = pieces.flatMap((p) => Array.from({ length: H }, (_, e) => (isFinal(p, T) ? cellMem[cellAt(p.layer, p.dir)]!.Hb + 32 * e : seqAt[p.layer]! + 32 * (p.t * D * H + p.dir * H + e))))
  const dense = plan.layers.map((l, i) => (i === plan.layers.length - 1 && alloc(2), alloc(l.nOut)))
  const end = at

  /** One block's groups (./blockGroupsYul.ts), its columns read from memory at `col(j)`. */
  const blockYul = (b: BlockLayout, bi: number, col: (j: number) => string, store: (row: number, v: string) => string): string[] => blockGroupsYul(b, packed[bi]!, (j) => `mload(${col(j)})`, store)

  const half = h(plan.scale >> 1n)
  const Fs = plan.F
  const m = (buf: number, i: number) => `mload(${h(buf + 32 * i)})`
  /**
   * One step of cell ci: its blocks over the columns [x (xCol), h], then each unit's update; with `seqBase`,
   * each new h_j is also stored at st + seqBase + 32·j (st: the step's offset in the layer's output sequence).
   */
  const cellStep = (ci: number, xCol: (j: number) => string, seqBase?: number): string[] => {
    const cell = cells[ci]!
    const { Hb, Cb, bufs } = cellMem[ci]!
    const out: string[] = []
    const colOf = (b: (typeof r.blocks)[number]) => (j: number) => (b.x && j < cell.features ? xCol(j) : h(Hb + 32 * (j - (b.x ? cell.features : 0))))
    const recStore = (bi: number) => (row: number, v: string) => {
      // GRU: r and z rows go through σ as they leave their lanes; LSTM: i, f, o through σ, g through tanh
      const act = r.kind === 'gru' ? (bi === 0 ? `sigmoid(${v})` : v) : Math.floor(row / H) === 2 ? `tanh_(${v})` : `sigmoid(${v})`
      return `mstore(${h(bufs[bi]! + 32 * row)}, ${act})`
    }
    cell.blocks.forEach((b, bi) => out.push(...blockYul(layout.blocks[firstBlock[ci]! + bi]!, firstBlock[ci]! + bi, colOf(b), recStore(bi))))
    for (let j = 0; j < H; j++) {
      const hj = h(Hb + 32 * j)
      const newH =
        r.kind === 'gru'
          ? { pre: `let nv := tanh_(add(${m(bufs[1]!, j)}, sar(${Fs}, add(mul(${m(bufs[0]!, j)}, ${m(bufs[2]!, j)}), ${half}))))`, v: `add(nv, sar(${Fs}, add(mul(${m(bufs[0]!, H + j)}, sub(mload(${hj}), nv)), ${half})))` }
          : { pre: `let cv := sar(${Fs}, add(add(mul(${m(bufs[0]!, H + j)}, mload(${h(Cb + 32 * j)})), mul(${m(bufs[0]!, j)}, ${m(bufs[0]!, 2 * H + j)})), ${half})) mstore(${h(Cb + 32 * j)}, cv)`, v: `sar(${Fs}, add(mul(${m(bufs[0]!, 3 * H + j)}, tanh_(cv)), ${half}))` }
      out.push(seqBase === undefined ? `{ ${newH.pre} mstore(${hj}, ${newH.v}) }` : `{ ${newH.pre} let hv := ${newH.v} mstore(${hj}, hv) mstore(add(st, ${h(seqBase + 32 * j)}), hv) }`)
    }
    return out
  }
  const xCol = (j: number) => (j ? `add(xp, ${h(32 * j)})` : 'xp')
  const loops: string[] = []
  const indent = '\n                    '
  if (D === 1) {
    // one loop: at each step every layer in turn, a stacked one reading the new h of the one below
    const stores = seqAt.some((a) => a >= 0)
    const step = layers.flatMap((_, l) => cellStep(l, l ? (j) => h(cellMem[l - 1]!.Hb + 32 * j) : xCol, seqAt[l]! >= 0 ? seqAt[l] : undefined))
    loops.push(`for { let xp := ${h(X)}${stores ? ' let st := 0' : ''} } lt(xp, ${h(X + 32 * T * F)}) { xp := add(xp, ${h(32 * F)})${stores ? ` st := add(st, ${h(32 * H)})` : ''} } {${indent}${step.join(indent)}\n                }`)
  } else
    layers.forEach((c, l) => {
      // the layer's input: the window, or the output sequence of the layer below; the reverse direction from the last step
      const [inAt, stride] = l ? [seqAt[l - 1]!, 32 * D * H] : [X, 32 * F]
      if (inAt < stride) throw new Error('unreachable: the reverse loop pointer would wrap')
      for (let d = 0; d < D; d++) {
        const seqBase = seqAt[l]! >= 0 ? seqAt[l]! + 32 * d * H : undefined
        const st = seqBase === undefined ? '' : d ? ` let st := ${h((T - 1) * 32 * D * H)}` : ' let st := 0'
        const stStep = seqBase === undefined ? '' : ` st := ${d ? 'sub' : 'add'}(st, ${h(32 * D * H)})`
        const body = cellStep(cellAt(l, d), xCol, seqBase).join(indent)
        loops.push(
          d
            ? `for { let xp := ${h(inAt + stride * (T - 1))}${st} } iszero(lt(xp, ${h(inAt)})) { xp := sub(xp, ${h(stride)})${stStep} } {${indent}${body}\n                }`
            : `for { let xp := ${h(inAt)}${st} } lt(xp, ${h(inAt + stride * T)}) { xp := add(xp, ${h(stride)})${stStep} } {${indent}${body}\n                }`,
        )
      }
      void c
    })

  const inB = plan.inputBytes
  const n = T * F
  const rows: string[] = [`// ${r.kind.toUpperCase()} '${r.name}': ${T} steps × ${F} features → ${H} hidden, ${layers.length} layer(s) × ${D} direction(s)`]
  if (n <= UNROLL_DECODE) for (let i = 0; i < n; i++) rows.push(`mstore(${h(X + 32 * i)}, sar(${256 - 8 * inB}, calldataload(${i ? `add(rp, ${h(i * inB)})` : 'rp'})))`)
  else rows.push(`for { let i := 0 } lt(i, ${n}) { i := add(i, 1) } { mstore(add(${h(X)}, shl(5, i)), sar(${256 - 8 * inB}, calldataload(add(rp, mul(i, ${inB}))))) }`)
  for (const { Hb, Cb } of cellMem) for (let j = 0; j < H; j++) rows.push(`mstore(${h(Hb + 32 * j)}, 0)${r.kind === 'lstm' ? ` mstore(${h(Cb + 32 * j)}, 0)` : ''}`)
  rows.push(...loops)
  // value 0: the readout's states where they lie; value k: dense layer k−1's outputs
  const valueAt = (v: number, j: number) => (v === 0 ? readAt[j]! : dense[v - 1]! + 32 * j)
  rows.push(...denseLayersYul(plan, dense, valueAt, readAt.length, (li, col, store) => blockGroupsYul(layout.blocks[nRec + li]!, packed[nRec + li]!, col, store)))
  return { blob, blobLength: layout.length, outputsAt: dense[dense.length - 1]!, end, perTx: '', perRow: rows.join('\n                ') }
}


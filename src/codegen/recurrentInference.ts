import { ConfigError } from '../errors/base.ts'
import type { Plan } from '../fixed/types.ts'
import { activationExpr, vectorActivationYul } from './activationYul.ts'
import type { InferenceParts } from './convInference.ts'
import { hex as h, macChain } from './laneKernel.ts'
import { cellsOf } from '../ir/recurrentTypes.ts'
import { recurrentBlobLayout, type BlockLayout } from './recurrentBlob.ts'

const words = (bytes: number) => Math.ceil(bytes / 32) * 32
/** Inputs of at most this many values are decoded without a loop. */
const UNROLL_DECODE = 64

/**
 * The kernel of a sequence model (a GRU/LSTM then dense layers), with SIMD lanes across each block's rows:
 * each lane group's lane words (one per column: that column's weight for every row of the group) and bias
 * word are read where the blob lies in memory (recurrentBlob.ts), no packing per transaction; per row, the
 * window is decoded, h (and c) start at 0, and a loop over the T steps computes every gate block (one MUL
 * per lane word), the gates' sigmoid/tanh as the lanes are split, then the update of each hidden unit
 * (recurrentPlanTypes.ts has the exact integer formulas, fixed/recurrent.ts the twin). The dense layers then
 * take h_T.
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
  // per stacked cell: its h (and c) and its blocks' outputs; the cells' blocks come first in the blob
  const cells = cellsOf(r)
  const cellMem = cells.map((c) => ({ Hb: alloc(H), Cb: alloc(H), bufs: c.blocks.map((b) => alloc(b.rows.length)) }))
  const firstBlock = cells.map((_, ci) => cells.slice(0, ci).reduce((n, c) => n + c.blocks.length, 0))
  const nRec = firstBlock[cells.length - 1]! + cells[cells.length - 1]!.blocks.length
  const Htop = cellMem[cells.length - 1]!.Hb
  const dense = plan.layers.map((l, i) => (i === plan.layers.length - 1 && alloc(2), alloc(l.nOut)))
  const end = at

  /** One block's groups: acc over its columns, lanes split, `store(row, v)` for each row's v = acc_row >> s. */
  const blockYul = (b: BlockLayout, bi: number, col: (j: number) => string, store: (row: number, v: string) => string): string[] => {
    const L = b.block.laneBits
    const cols = b.block.weights[0]!.length
    return b.groups.map((g, gi) => {
      const p = packed[bi]![gi]!
      const lines = [`let acc := mload(${h(p)})`, ...macChain(Array.from({ length: cols }, (_, j) => `mul(mload(${col(j)}), mload(${h(p + 32 * (j + 1))}))`))]
      for (let k = 0; k < g.lanes; k++) {
        const last = k === g.lanes - 1
        const lane = last && g.lanes === 1 ? 'acc' : `signextend(${L / 8 - 1}, acc)`
        if (last) lines.push(`{ let v := sar(${b.block.wShift}, ${lane}) ${store(g.first + k, 'v')} }`)
        else lines.push(`{ let lane := ${lane} let v := sar(${b.block.wShift}, lane) ${store(g.first + k, 'v')} acc := sar(${L}, sub(acc, lane)) }`)
      }
      return `{ ${lines.join('\n                    ')} }`
    })
  }

  const half = h(plan.scale >> 1n)
  const Fs = plan.F
  const xCol = (j: number) => (j ? `add(xp, ${h(32 * j)})` : 'xp')
  const m = (buf: number, i: number) => `mload(${h(buf + 32 * i)})`
  const step: string[] = []
  cells.forEach((cell, ci) => {
  const { Hb, Cb, bufs } = cellMem[ci]!
  // the first cell reads the window's step at xp; a stacked cell the cell below's new h
  const below = ci ? cellMem[ci - 1]!.Hb : -1
  const colOf = (b: (typeof r.blocks)[number]) => (j: number) => (b.x && j < cell.features ? (below < 0 ? xCol(j) : h(below + 32 * j)) : h(Hb + 32 * (j - (b.x ? cell.features : 0))))
  const recStore = (bi: number) => (row: number, v: string) => {
    // GRU: r and z rows go through σ as they leave their lanes; LSTM: i, f, o through σ, g through tanh
    const act = r.kind === 'gru' ? (bi === 0 ? `sigmoid(${v})` : v) : Math.floor(row / H) === 2 ? `tanh_(${v})` : `sigmoid(${v})`
    return `mstore(${h(bufs[bi]! + 32 * row)}, ${act})`
  }
  cell.blocks.forEach((b, bi) => step.push(...blockYul(layout.blocks[firstBlock[ci]! + bi]!, firstBlock[ci]! + bi, colOf(b), recStore(bi))))
  for (let j = 0; j < H; j++) {
    const hj = h(Hb + 32 * j)
    if (r.kind === 'gru')
      step.push(
        `{ let nv := tanh_(add(${m(bufs[1]!, j)}, sar(${Fs}, add(mul(${m(bufs[0]!, j)}, ${m(bufs[2]!, j)}), ${half})))) mstore(${hj}, add(nv, sar(${Fs}, add(mul(${m(bufs[0]!, H + j)}, sub(mload(${hj}), nv)), ${half})))) }`,
      )
    else {
      const g = bufs[0]!
      const cj = h(Cb + 32 * j)
      step.push(`{ let cv := sar(${Fs}, add(add(mul(${m(g, H + j)}, mload(${cj})), mul(${m(g, j)}, ${m(g, 2 * H + j)})), ${half})) mstore(${cj}, cv) mstore(${hj}, sar(${Fs}, add(mul(${m(g, 3 * H + j)}, tanh_(cv)), ${half}))) }`)
    }
  }
  })

  const inB = plan.inputBytes
  const n = T * F
  const rows: string[] = [`// ${r.kind.toUpperCase()} '${r.name}': ${T} steps × ${F} features → ${H} hidden, ${cells.length} layer(s)`]
  if (n <= UNROLL_DECODE) for (let i = 0; i < n; i++) rows.push(`mstore(${h(X + 32 * i)}, sar(${256 - 8 * inB}, calldataload(${i ? `add(rp, ${h(i * inB)})` : 'rp'})))`)
  else rows.push(`for { let i := 0 } lt(i, ${n}) { i := add(i, 1) } { mstore(add(${h(X)}, shl(5, i)), sar(${256 - 8 * inB}, calldataload(add(rp, mul(i, ${inB}))))) }`)
  for (const { Hb, Cb } of cellMem) for (let j = 0; j < H; j++) rows.push(`mstore(${h(Hb + 32 * j)}, 0)${r.kind === 'lstm' ? ` mstore(${h(Cb + 32 * j)}, 0)` : ''}`)
  rows.push(`for { let xp := ${h(X)} } lt(xp, ${h(X + 32 * n)}) { xp := add(xp, ${h(32 * F)}) } {\n                    ${step.join('\n                    ')}\n                }`)
  plan.layers.forEach((l, li) => {
    const src = li === 0 ? Htop : dense[li - 1]!
    const out = dense[li]!
    rows.push(`// layer '${l.name}': ${l.nIn} → ${l.nOut}`)
    rows.push(...blockYul(layout.blocks[nRec + li]!, nRec + li, (j) => h(src + 32 * j), (row, v) => `mstore(${h(out + 32 * row)}, ${activationExpr(l.activation, v, l.slopeQ)})`))
    const vec = vectorActivationYul(l.activation, h(out), l.nOut, plan)
    if (vec) rows.push(vec)
  })
  return { blob, blobLength: layout.length, outputsAt: dense[dense.length - 1]!, end, perTx: '', perRow: rows.join('\n                ') }
}

import type { Plan } from '../../fixed/types.ts'
import { cellsOf } from '../../ir/recurrentTypes.ts'
import { writeInt } from '../dense/writeInt.ts'

/**
 * A sequence model's weight blocks, as the kernel computes them: the GRU/LSTM's gate blocks (one weight
 * scale), then each dense layer. A block's rows are split in lane groups of `lanes` rows.
 */
export type LaneBlock = { name: string; weights: bigint[][]; biases: bigint[]; laneBits: number; lanes: number; wShift: number }
export type LaneGroup = { first: number; lanes: number }
export type BlockLayout = { block: LaneBlock; groups: (LaneGroup & { wordsAt: number })[] }

export function laneBlocksOf(plan: Plan): LaneBlock[] {
  const r = plan.recurrent
  const a = plan.attention
  return [
    // an attention model: its q, kv and out_proj blocks (attentionPlanTypes.ts), each with its own scale
    ...(a ? a.blocks.map((b) => ({ name: `${a.name}.${b.name}`, weights: b.weights, biases: b.biases, laneBits: b.laneBits, lanes: b.lanes, wShift: b.wShift })) : []),
    ...(r ? cellsOf(r) : []).flatMap((c) => c.blocks.map((b) => ({ name: `${c.name}.${b.name}`, weights: b.weights, biases: b.biases, laneBits: b.laneBits, lanes: b.lanes, wShift: c.wShift }))),
    ...plan.layers.map((l) => ({ name: l.name, weights: l.weights, biases: l.biases, laneBits: l.laneBits, lanes: l.lanes, wShift: l.wShift })),
  ]
}

export const groupsOfBlock = (b: LaneBlock): LaneGroup[] =>
  Array.from({ length: Math.ceil(b.weights.length / b.lanes) }, (_, g) => ({ first: g * b.lanes, lanes: Math.min(b.lanes, b.weights.length - g * b.lanes) }))

/**
 * The canonical weight encoding of a sequence model (its keccak256 is the model commitment): per block,
 * per lane group, the group's bias lane word, then one lane word per column (that column's weight for
 * every row of the group), each a 256-bit two's complement word Σ_k v_k·2^(k·laneBits). The kernel reads
 * them where the blob lies in memory, with no packing: a lane word costs 32 bytes of upload instead of
 * lanes·weightBytes, and nothing per transaction.
 */
export function recurrentBlobLayout(plan: Plan): { blocks: BlockLayout[]; length: number } {
  let at = 0
  const blocks = laneBlocksOf(plan).map((block) => {
    const cols = block.weights[0]!.length
    const groups = groupsOfBlock(block).map((g) => {
      const wordsAt = at
      at += 32 * (cols + 1)
      return { ...g, wordsAt }
    })
    return { block, groups }
  })
  return { blocks, length: at }
}

/** Σ_k v[first+k]·2^(k·laneBits) as an unsigned 256-bit word. */
export const laneWordOf = (v: bigint[], g: LaneGroup, laneBits: number): bigint => BigInt.asUintN(256, v.slice(g.first, g.first + g.lanes).reduce((w, x, k) => w + (x << BigInt(k * laneBits)), 0n))

export function encodeRecurrentBlob(plan: Plan): Uint8Array {
  const layout = recurrentBlobLayout(plan)
  const out = new Uint8Array(layout.length)
  for (const { block, groups } of layout.blocks) {
    const cols = block.weights[0]!.length
    for (const g of groups) {
      writeInt(out, g.wordsAt, laneWordOf(block.biases, g, block.laneBits), 32)
      for (let j = 0; j < cols; j++) writeInt(out, g.wordsAt + 32 * (j + 1), laneWordOf(block.weights.map((r) => r[j]!), g, block.laneBits), 32)
    }
  }
  return out
}

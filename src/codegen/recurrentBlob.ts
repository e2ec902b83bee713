import type { Plan } from '../fixed/types.ts'
import { writeInt } from './writeInt.ts'

/**
 * A sequence model's weight blocks, as the kernel computes them: the GRU/LSTM's gate blocks (one weight
 * scale), then each dense layer. A block's rows are split in lane groups of `lanes` rows.
 */
export type LaneBlock = { name: string; weights: bigint[][]; biases: bigint[]; laneBits: number; lanes: number; wShift: number }
export type LaneGroup = { first: number; lanes: number }
export type BlockLayout = { block: LaneBlock; groups: (LaneGroup & { weightsAt: number })[]; biasesAt: number }

export function laneBlocksOf(plan: Plan): LaneBlock[] {
  const r = plan.recurrent!
  return [
    ...r.blocks.map((b) => ({ name: `${r.name}.${b.name}`, weights: b.weights, biases: b.biases, laneBits: b.laneBits, lanes: b.lanes, wShift: r.wShift })),
    ...plan.layers.map((l) => ({ name: l.name, weights: l.weights, biases: l.biases, laneBits: l.laneBits, lanes: l.lanes, wShift: l.wShift })),
  ]
}

export const groupsOfBlock = (b: LaneBlock): LaneGroup[] =>
  Array.from({ length: Math.ceil(b.weights.length / b.lanes) }, (_, g) => ({ first: g * b.lanes, lanes: Math.min(b.lanes, b.weights.length - g * b.lanes) }))

/**
 * The canonical weight encoding of a sequence model (its keccak256 is the model commitment): per block,
 * per lane group, per column, the group's weights for that column (big-endian two's complement,
 * `weightBytes` each: one MLOAD reads a lane word's fields); then the block's biases (`biasBytes` each).
 */
export function recurrentBlobLayout(plan: Plan): { blocks: BlockLayout[]; length: number } {
  let at = 0
  const blocks = laneBlocksOf(plan).map((block) => {
    const cols = block.weights[0]!.length
    const groups = groupsOfBlock(block).map((g) => {
      const weightsAt = at
      at += g.lanes * cols * plan.weightBytes
      return { ...g, weightsAt }
    })
    const biasesAt = at
    at += block.biases.length * plan.biasBytes
    return { block, groups, biasesAt }
  })
  return { blocks, length: at }
}

export function encodeRecurrentBlob(plan: Plan): Uint8Array {
  const layout = recurrentBlobLayout(plan)
  const out = new Uint8Array(layout.length)
  const wb = plan.weightBytes
  for (const { block, groups, biasesAt } of layout.blocks) {
    const cols = block.weights[0]!.length
    for (const g of groups) for (let j = 0; j < cols; j++) for (let k = 0; k < g.lanes; k++) writeInt(out, g.weightsAt + (j * g.lanes + k) * wb, block.weights[g.first + k]![j]!, wb)
    block.biases.forEach((b, i) => writeInt(out, biasesAt + i * plan.biasBytes, b, plan.biasBytes))
  }
  return out
}

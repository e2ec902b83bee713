import { keccak256, toHex } from 'viem'
import type { LayerPlan, Plan } from '../fixed/types.ts'
import { convBlobLayout, encodeConvBlob } from './convBlob.ts'
import { isTensorPlan, tensorStepsOf } from './tensorStepsOf.ts'

/** EIP-170 caps code at 24,576 bytes; a data contract spends one byte on its leading STOP. */
export const MAX_CHUNK = 24_575

export type GroupLayout = { first: number; lanes: number }
export type LayerBlob = {
  /** Byte offsets in the blob of this layer's weights and biases. */
  weightsAt: number
  biasesAt: number
  groups: GroupLayout[]
}
export type BlobLayout = { layers: LayerBlob[]; length: number }

/** Output j of a layer sits in lane j mod `lanes` of group floor(j / lanes). */
export function groupsOf(layer: LayerPlan): GroupLayout[] {
  const groups: GroupLayout[] = []
  for (let first = 0; first < layer.nOut; first += layer.lanes)
    groups.push({ first, lanes: Math.min(layer.lanes, layer.nOut - first) })
  return groups
}

/**
 * The canonical weight encoding (its keccak256 is the model commitment). Per layer: for each lane group,
 * for each input i, the group's weights for input i (big-endian two's complement, `weightBytes` each), so
 * that one MLOAD fetches everything a SIMD word needs; then the layer's biases in output order.
 */
export function blobLayout(plan: Plan): BlobLayout {
  // a convolutional model's blob is laid out per conv lane group (convBlob.ts)
  if (isTensorPlan(plan)) return { layers: [], length: convBlobLayout(tensorStepsOf(plan), plan.weightBytes, plan.biasBytes).length }
  let at = 0
  const layers = plan.layers.map((layer) => {
    const weightsAt = at
    at += layer.nOut * layer.nIn * plan.weightBytes
    const biasesAt = at
    at += layer.nOut * plan.biasBytes
    return { weightsAt, biasesAt, groups: groupsOf(layer) }
  })
  return { layers, length: at }
}

function writeInt(out: Uint8Array, at: number, v: bigint, bytes: number) {
  let x = BigInt.asUintN(8 * bytes, v)
  for (let b = bytes - 1; b >= 0; b--) {
    out[at + b] = Number(x & 0xffn)
    x >>= 8n
  }
}

export function encodeWeights(plan: Plan): Uint8Array {
  if (isTensorPlan(plan)) return encodeConvBlob(tensorStepsOf(plan), plan.weightBytes, plan.biasBytes)
  const layout = blobLayout(plan)
  const out = new Uint8Array(layout.length)
  plan.layers.forEach((layer, l) => {
    const { weightsAt, biasesAt, groups } = layout.layers[l]!
    let at = weightsAt
    for (const g of groups)
      for (let i = 0; i < layer.nIn; i++)
        for (let k = 0; k < g.lanes; k++, at += plan.weightBytes) writeInt(out, at, layer.weights[g.first + k]![i]!, plan.weightBytes)
    layer.biases.forEach((b, j) => writeInt(out, biasesAt + j * plan.biasBytes, b, plan.biasBytes))
  })
  return out
}

/** Split the blob into data-contract chunks of at most `size` bytes. */
export function chunkSizes(length: number, size = MAX_CHUNK): number[] {
  const sizes: number[] = []
  for (let at = 0; at < length; at += size) sizes.push(Math.min(size, length - at))
  return sizes
}

export function commitmentOf(blob: Uint8Array): `0x${string}` {
  return keccak256(toHex(blob))
}

import type { Plan } from '../fixed/types.ts'
import { blobLayout, groupsOf, type BlobLayout } from './weightBlob.ts'

export type LayerMemory = { packedWeights: number; packedBiases: number; activations: number }
export type MemoryMap = {
  blob: number
  blobLayout: BlobLayout
  layers: LayerMemory[]
  /** Decoded inputs of the current row (used when the first layer has several lane groups). */
  inputs: number
  /** Start of the output buffer (ABI `bytes`: offset word, length word, data); a batch's outputs grow past `end`. */
  out: number
  /** First free byte after every fixed region; batch outputs are written from here. */
  end: number
}

const words = (bytes: number) => Math.ceil(bytes / 32) * 32

/** Fixed memory addresses for everything inference touches; the contract never hands memory back to Solidity. */
export function memoryMap(plan: Plan): MemoryMap {
  const layout = blobLayout(plan)
  // 0x80 holds the length word of the embedded `bytes constant WEIGHTS` when Solidity copies it; data follows
  const blob = 0xa0
  let at = blob + words(layout.length) + 32 // slack: the last MLOAD may read past the blob
  // small buffers first (inputs, activations, outputs), the big lane-word regions last: a single-row
  // predict never touches the lane words, so it never pays for their memory expansion
  const inputs = at
  at += plan.inputSize * 32
  const activations = plan.layers.map((layer, l) => {
    // the last layer's outputs get two words in front: predict returns them in place as an int256[]
    if (l === plan.layers.length - 1) at += 0x40
    const a = at
    at += layer.nOut * 32
    return a
  })
  const out = at
  at += 0x40 + 32 * plan.outputSize // a one-row predictBatch's packed outputs (ABI bytes), clear of the lane words
  const layers = plan.layers.map((layer, l) => {
    const g = groupsOf(layer).length
    const m = { packedWeights: at, packedBiases: at + g * layer.nIn * 32, activations: activations[l]! }
    at = m.packedBiases + g * 32
    return m
  })
  return { blob, blobLayout: layout, layers, inputs, out, end: at }
}

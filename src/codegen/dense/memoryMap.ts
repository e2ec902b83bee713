import type { Plan } from '../../fixed/types.ts'
import { blobLayout, type BlobLayout, type GroupLayout } from '../weights/weightBlob.ts'
import { gatherWords, multipliedInputs } from './categoricalYul.ts'

/**
 * How a contract runs its rows:
 * - `code`: the signed lane words are PUSH32 constants (the `code` layout);
 * - `packed`: small models: the lane words are extracted from the blob once per transaction into memory,
 *   then every row does one MLOAD + MUL per lane word;
 * - `fused`: larger models: every row takes its lane words straight from the blob's packets (no lane-word
 *   memory, whose expansion would cost more than it saves), so a batch costs per row what one predict does.
 * `streams`: the weights come from data contracts one lane group at a time into a small buffer, never
 * the whole blob at once (memory expansion grows with its square).
 */
export type Kernel = { mode: 'code' | 'packed' | 'fused'; streams: boolean }

/** Lane words at most this many (32 bytes each in memory) are packed once per transaction. */
export const PACK_WORDS = 512
/** Blobs from data contracts larger than this are streamed group by group. */
export const STREAM_MIN = 8192

/** Lane words per row: Σ over layers of lane groups × inputs multiplied (a gathered embedding column is none). */
export const laneWordsOf = (plan: Plan) => plan.layers.reduce((n, layer, l) => n + Math.ceil(layer.nOut / layer.lanes) * multipliedInputs(plan, l), 0)

export function kernelOf(plan: Plan, o: { layout: 'datacontract' | 'code' | 'storage'; embedded: boolean }): Kernel {
  if (o.layout === 'code') return { mode: 'code', streams: false }
  const mode = laneWordsOf(plan) <= PACK_WORDS ? 'packed' : 'fused'
  return { mode, streams: mode === 'fused' && o.layout === 'datacontract' && !o.embedded && blobLayout(plan).length > STREAM_MIN }
}

export type LayerMemory = {
  /** Per lane group: where its signed lane words start (`packed`: input i's word at +32·i). */
  packedWeights: number[]
  packedBiases: number
  activations: number
  /** A graph model's layer that reads a skip, a residual sum or a concat: where that vector is built (joinYul.ts). */
  joined?: number
}
export type MemoryMap = {
  kernel: Kernel
  /** The weights: the whole blob, or (streaming) a buffer for the largest lane group. */
  blob: number
  blobLayout: BlobLayout
  /** Streaming: the data contracts' addresses, one word each. */
  chunkTable: number
  layers: LayerMemory[]
  /** Decoded inputs of the current row. */
  inputs: number
  /** nn.Embedding columns: where each row's gathers are located, or (`code` layout) their lane words (categoricalYul.ts). */
  gather: number
  /** First free byte after every fixed region; a call's outputs (ABI bytes) are written from here. */
  end: number
}

/** Layers with at most this many (group, input) products are fully unrolled; bigger ones loop, 8 per turn. */
export const UNROLL_LIMIT = 48

/** Whether a packed-kernel row's features are first decoded into memory (else read straight from calldata). */
export function decodesInputs(plan: Plan): boolean {
  // nn.Embedding columns: the numeric features are decoded apart from the categorical ones (categoricalYul.ts)
  if (plan.categorical?.length) return true
  // a graph model that reads the input again later (a skip or concat from x) keeps it in memory
  if (plan.layers.some((l) => l.input?.values.includes(0))) return true
  const firstGroups = Math.ceil(plan.layers[0]!.nOut / plan.layers[0]!.lanes)
  return firstGroups > 1 || plan.inputSize * firstGroups > UNROLL_LIMIT
}

const words = (bytes: number) => Math.ceil(bytes / 32) * 32

/**
 * Memory words a `packed` group's lane words take (packWeightsYul writes them, memoryMap reserves them): the
 * packing loop writes every field of every packet (the last one's spare words are never read); a lone packet
 * is unpacked word by word, its `nIn` words only (memory is paid per word touched). `nIn` counts the
 * multiplied inputs: a gathered embedding column is never unpacked.
 */
export const packedGroupWords = (g: Pick<GroupLayout, 'packets' | 'perWord'>, nIn: number): number => (g.packets === 1 ? nIn : Math.ceil(nIn / g.perWord) * g.perWord)

/** Fixed memory addresses for everything inference touches; the contract never hands memory back to Solidity. */
export function memoryMap(plan: Plan, kernel: Kernel = { mode: 'packed', streams: false }, chunks = 1): MemoryMap {
  const layout = blobLayout(plan)
  // 0x80 holds the length word of the embedded `bytes constant WEIGHTS` when Solidity copies it; data follows
  const blob = 0xa0
  const region = kernel.streams ? Math.max(...layout.layers.flatMap((l) => l.groups.map((g) => g.bytes))) : kernel.mode === 'code' ? 0 : layout.length
  let at = blob + words(region) + 32 // slack: the last MLOAD may read past the end
  const chunkTable = at
  if (kernel.streams) at += 32 * chunks
  const inputs = at
  // a row read straight from calldata needs no input words (memory expansion is paid per word touched)
  // (with nn.Embedding columns only the numeric ones: a category's weight column is gathered, never multiplied)
  if (kernel.mode === 'fused' || decodesInputs(plan)) at += multipliedInputs(plan, 0) * 32
  const gather = at
  at += 32 * gatherWords(plan, layout.layers[0]?.groups ?? [], kernel.mode === 'code')
  const activations = plan.layers.map((layer, l) => {
    // the last layer's outputs get two words in front: predict returns them in place as an int256[]
    if (l === plan.layers.length - 1) at += 0x40
    const a = at
    at += layer.nOut * 32
    return a
  })
  const layers: LayerMemory[] = []
  plan.layers.forEach((layer, l) => {
    const groups = layout.layers[l]!.groups
    const packedWeights: number[] = []
    // a module applied again (plan.layers[l].shares) reads its first use's lane words: none of its own
    const own = kernel.mode === 'packed' && layer.shares === undefined
    // the first layer of a model with nn.Embedding columns packs only its numeric columns' lane words (the rest are gathered)
    if (own)
      for (const g of groups) {
        packedWeights.push(at)
        at += packedGroupWords(g, multipliedInputs(plan, l)) * 32
      }
    else if (layer.shares !== undefined) packedWeights.push(...layers[layer.shares]!.packedWeights)
    const packedBiases = layer.shares === undefined ? at : layers[layer.shares]!.packedBiases
    if (own) at += groups.length * 32
    // a graph model's layer reading a skip, a residual sum or a concat: where that vector is built
    const joined = layer.input ? at : undefined
    if (layer.input) at += layer.nIn * 32
    layers.push({ packedWeights, packedBiases, activations: activations[l]!, ...(joined === undefined ? {} : { joined }) })
  })
  return { kernel, blob, blobLayout: layout, chunkTable, layers, inputs, gather, end: at }
}

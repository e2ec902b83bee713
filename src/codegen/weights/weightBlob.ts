import { keccak256, toHex } from 'viem'
import { layerWeightBytes, type LayerPlan, type Plan } from '../../fixed/types.ts'
import { convBlobLayout, encodeConvBlob } from '../conv/convBlob.ts'
import { encodeRecurrentBlob, recurrentBlobLayout } from '../sequence/recurrentBlob.ts'
import { isTensorPlan, tensorStepsOf } from '../conv/tensorStepsOf.ts'
import { writeBits, writeInt } from '../dense/writeInt.ts'

/** EIP-170 caps code at 24,576 bytes; a data contract spends one byte on its leading STOP. */
export const MAX_CHUNK = 24_575

/**
 * One lane group of a layer in the blob: its bias packet, then its weight packets. A packet holds, for
 * `perWord` consecutive inputs, the group's weights biased to unsigned (w + 2^(8·wb−1)), interleaved so
 * that ONE MLOAD of the packet yields `perWord` lane words: lane word j = and(shr(shift(j), m), mask)
 * has the weight of output first + k for input t·perWord + j in bits [k·spacing, k·spacing + 8·wb).
 */
export type GroupLayout = {
  first: number
  lanes: number
  /** Bits between lanes: the widest multiple of the weight width that fits `lanes` lanes in 256 bits. */
  spacing: number
  /** Inputs per packet (lane words per MLOAD). */
  perWord: number
  /** Blob offset of the group (its bias packet); weights follow at `at + biasBytes`. */
  at: number
  /** Bytes of the bias packet: lanes·spacing/8 (the lanes' biases as one signed lane word), or biasBytes for one lane. */
  biasBytes: number
  packetBytes: number
  packets: number
  /**
   * A group's only packet (nIn ≤ perWord) holds just nIn inputs; its unused leading bytes are not stored,
   * so it is MLOADed `lead` bytes before where it starts (those bytes are shifted out).
   */
  lead: number
  /** Bytes of the whole group (bias packet and weight packets). */
  bytes: number
}
export type LayerBlob = { at: number; groups: GroupLayout[]; end: number }
export type BlobLayout = { layers: LayerBlob[]; length: number }

/** Bits between the lanes of a group of `lanes` lanes holding `weightBytes`-byte weights. */
export const laneSpacing = (lanes: number, weightBytes: number) => 8 * weightBytes * Math.floor(256 / (8 * weightBytes * lanes))

/** Output j of a layer sits in lane j mod `lanes` of group floor(j / lanes). */
export function groupsOf(layer: LayerPlan): { first: number; lanes: number }[] {
  const groups: { first: number; lanes: number }[] = []
  for (let first = 0; first < layer.nOut; first += layer.lanes) groups.push({ first, lanes: Math.min(layer.lanes, layer.nOut - first) })
  return groups
}

/** Offset of packet t's MLOAD from the group's start. */
export const packetAt = (g: GroupLayout, t: number) => g.biasBytes + t * g.packetBytes - (t === g.packets - 1 ? g.lead : 0)

/** Shift that brings lane word j of a packet down to bit 0 (the packet sits in the top bytes of the MLOADed word). */
export const packetShift = (g: GroupLayout, j: number, weightBytes: number) => 256 - g.lanes * g.spacing + 8 * weightBytes * j

/** The mask of a group's lane words: 2^(8·wb) − 1 in every lane. */
export function laneMask(g: Pick<GroupLayout, 'lanes' | 'spacing'>, weightBytes: number): bigint {
  let m = 0n
  for (let k = 0; k < g.lanes; k++) m |= ((1n << BigInt(8 * weightBytes)) - 1n) << BigInt(k * g.spacing)
  return m
}

/** 2^(8·wb−1) in every lane: a lane word of biased weights minus this is the lane word of the signed weights. */
export const weightBiasWord = (g: Pick<GroupLayout, 'lanes' | 'spacing'>, weightBytes: number) => (laneMask(g, weightBytes) / ((1n << BigInt(8 * weightBytes)) - 1n)) << BigInt(8 * weightBytes - 1)

/**
 * The canonical weight encoding (its keccak256 is the model commitment): per layer, per lane group, the
 * bias packet then the weight packets (see GroupLayout). Every weight takes its layer's width (layerWeightBytes); only a
 * group's last packet may hold unused fields (in its lower lanes). A layer that applies an earlier layer's
 * module again (LayerPlan.shares) has no bytes of its own: its layout is that layer's.
 */
export function blobLayout(plan: Plan): BlobLayout {
  // a convolutional model's blob is laid out per conv lane group (convBlob.ts)
  if (plan.recurrent || plan.attention) return { layers: [], length: recurrentBlobLayout(plan).length }
  if (isTensorPlan(plan)) return { layers: [], length: convBlobLayout(tensorStepsOf(plan), plan.weightBytes, plan.biasBytes).length }
  let at = 0
  const layers: LayerBlob[] = []
  for (const [l, layer] of plan.layers.entries()) {
    // a module applied again reads the lane groups of its first use: its weights are stored once
    if (layer.shares !== undefined) {
      layers.push(layers[layer.shares]!)
      continue
    }
    const wb = layerWeightBytes(plan, l)
    const start = at
    const groups = groupsOf(layer).map(({ first, lanes }) => {
      const spacing = laneSpacing(lanes, wb)
      const perWord = spacing / (8 * wb)
      // int4 weights: an odd number of 4-bit fields pads the packet to whole bytes (its last nibble unused)
      const packetBytes = Math.ceil((lanes * spacing) / 8)
      const packets = Math.ceil(layer.nIn / perWord)
      const biasBytes = lanes === 1 ? plan.biasBytes : packetBytes
      // only a lone packet is trimmed: a group's packets then stay evenly spaced for the packing loop
      const lead = packets === 1 ? Math.floor((spacing - 8 * wb * layer.nIn) / 8) : 0
      const g = { first, lanes, spacing, perWord, at, biasBytes, packetBytes, packets, lead, bytes: biasBytes + packets * packetBytes - lead }
      at += g.bytes
      return g
    })
    layers.push({ at: start, groups, end: at })
  }
  return { layers, length: at }
}

/** The group's biases as one signed lane word Σ b_k·2^(k·spacing), in lanes·spacing bits. */
export function biasLaneWord(layer: LayerPlan, g: Pick<GroupLayout, 'first' | 'lanes' | 'spacing'>): bigint {
  let w = 0n
  for (let k = 0; k < g.lanes; k++) w += layer.biases[g.first + k]! << BigInt(k * g.spacing)
  return w
}

export function encodeWeights(plan: Plan): Uint8Array {
  if (plan.recurrent || plan.attention) return encodeRecurrentBlob(plan)
  if (isTensorPlan(plan)) return encodeConvBlob(tensorStepsOf(plan), plan.weightBytes, plan.biasBytes)
  const layout = blobLayout(plan)
  const out = new Uint8Array(layout.length)
  plan.layers.forEach((layer, l) => {
    if (layer.shares !== undefined) return // its first use's bytes
    const wb = layerWeightBytes(plan, l)
    const half = 1n << BigInt(8 * wb - 1)
    for (const g of layout.layers[l]!.groups) {
      if (g.lanes === 1) writeInt(out, g.at, layer.biases[g.first]!, plan.biasBytes)
      else writeInt(out, g.at, biasLaneWord(layer, g), g.biasBytes)
      for (let t = 0; t < g.packets; t++) {
        const p = g.at + packetAt(g, t)
        for (let j = 0; j < g.perWord && t * g.perWord + j < layer.nIn; j++)
          for (let k = 0; k < g.lanes; k++)
            writeBits(out, 8 * p + (g.lanes - k) * g.spacing - 8 * wb * (j + 1), layer.weights[g.first + k]![t * g.perWord + j]! + half, 8 * wb)
      }
    }
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

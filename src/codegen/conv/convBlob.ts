import { convPacketsOf, groupOffsets, stepWeightBytes } from './convPackets.ts'
import { laneGroupsOf, tapsOf, type ConvStep, type LaneGroup, type TensorStep } from './convTypes.ts'
import { writeInt } from '../dense/writeInt.ts'

export type ConvBlobLayer = { weightsAt: number; biasesAt: number }
export type ConvBlobLayout = { layers: (ConvBlobLayer | undefined)[]; length: number }

/**
 * The canonical weight encoding of a tensor network (its keccak256 is the model commitment). Per
 * convolution (a dense layer is a 1×1 one): for each lane group, its taps (cin, ky, kx) in packets
 * (ConvPackets); then the biases in output-channel order (big-endian two's complement, biasBytes each).
 * Pooling has no weights.
 */
export function convBlobLayout(steps: TensorStep[], weightBytes: number, biasBytes: number): ConvBlobLayout {
  let at = 0
  const layers = steps.map((s) => {
    if (s.kind !== 'conv') return undefined
    const weightsAt = at
    for (const g of laneGroupsOf(s)) at += convPacketsOf(s, g.lanes, weightBytes).bytes
    const biasesAt = at
    at += s.outShape.c * biasBytes
    return { weightsAt, biasesAt }
  })
  return { layers, length: at }
}

/** The weights of lane group members for tap t = (ci, ky, kx) in (ci, ky, kx) order. */
export function tapWeight(s: ConvStep, cout: number, t: number): bigint {
  const k = s.kh * s.kw
  const ci = Math.floor(t / k)
  const r = t % k
  return s.weights[cout]![ci]![Math.floor(r / s.kw)]![r % s.kw]!
}

function writeGroup(out: Uint8Array, at: number, s: ConvStep, g: LaneGroup, planBytes: number) {
  const { perWord, packetBytes } = convPacketsOf(s, g.lanes, planBytes)
  const weightBytes = stepWeightBytes(s, planBytes)
  const half = 1n << BigInt(8 * weightBytes - 1)
  for (let t = 0; t < tapsOf(s); t++) {
    const p = at + Math.floor(t / perWord) * packetBytes
    const j = t % perWord
    // field (lane k, word j) at bit k·laneBits + 8·wb·j of the packet read as one big-endian integer
    for (let k = 0; k < g.lanes; k++) writeInt(out, p + ((g.lanes - k) * s.laneBits) / 8 - weightBytes * (j + 1), tapWeight(s, g.first + k, t) + half, weightBytes)
  }
}

export function encodeConvBlob(steps: TensorStep[], weightBytes: number, biasBytes: number): Uint8Array {
  const layout = convBlobLayout(steps, weightBytes, biasBytes)
  const out = new Uint8Array(layout.length)
  steps.forEach((s, i) => {
    if (s.kind !== 'conv') return
    const { weightsAt, biasesAt } = layout.layers[i]!
    const offsets = groupOffsets(s, weightBytes)
    laneGroupsOf(s).forEach((g, gi) => writeGroup(out, weightsAt + offsets[gi]!, s, g, weightBytes))
    s.biases.forEach((b, j) => writeInt(out, biasesAt + j * biasBytes, b, biasBytes))
  })
  return out
}

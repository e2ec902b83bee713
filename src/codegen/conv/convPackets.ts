import { laneGroupsOf, tapsOf, type ConvStep } from './convTypes.ts'

/** A step's bytes per weight: its own in a mixed plan (ConvStep.weightBytes), else the plan's. */
export const stepWeightBytes = (s: ConvStep, planBytes: number): number => s.weightBytes ?? planBytes

/**
 * How a conv lane group's weights are packed (the MLP's packets, weightBlob.ts, at the conv's lane width):
 * a packet of lanes·laneBits/8 bytes holds the lane words of `perWord` consecutive taps, interleaved, each
 * weight biased to unsigned (w + 2^(8·wb−1)), so that lane word j of a packet MLOADed into m is
 * and(shr(256 − lanes·laneBits + 8·wb·j, m), mask) − bw: four operations, none per weight.
 */
export type ConvPackets = { perWord: number; packetBytes: number; packets: number; bytes: number }

export function convPacketsOf(s: ConvStep, lanes: number, planBytes: number): ConvPackets {
  const weightBytes = stepWeightBytes(s, planBytes)
  const perWord = Math.floor(s.laneBits / (8 * weightBytes))
  if (perWord < 1) throw new Error(`conv '${s.name}': ${s.laneBits}-bit lanes cannot hold ${8 * weightBytes}-bit weights`)
  const packetBytes = (lanes * s.laneBits) / 8
  const packets = Math.ceil(tapsOf(s) / perWord)
  return { perWord, packetBytes, packets, bytes: packets * packetBytes }
}

/** Shift that brings lane word j of a packet down to bit 0 (the packet sits in the top bytes of the MLOADed word). */
export const convPacketShift = (s: ConvStep, lanes: number, weightBytes: number, j: number) => 256 - lanes * s.laneBits + 8 * stepWeightBytes(s, weightBytes) * j

/** The lane mask (2^(8·wb) − 1 in every lane) and the weights' unsigned bias (2^(8·wb−1) in every lane). */
export function convLaneMasks(s: ConvStep, lanes: number, planBytes: number): { mask: bigint; bias: bigint } {
  const weightBytes = stepWeightBytes(s, planBytes)
  let mask = 0n
  let bias = 0n
  for (let k = 0; k < lanes; k++) {
    mask |= ((1n << BigInt(8 * weightBytes)) - 1n) << BigInt(k * s.laneBits)
    bias |= (1n << BigInt(8 * weightBytes - 1)) << BigInt(k * s.laneBits)
  }
  return { mask, bias }
}

/** Blob offset of each lane group's packets, from the step's weightsAt. */
export function groupOffsets(s: ConvStep, weightBytes: number): number[] {
  let at = 0
  return laneGroupsOf(s).map((g) => {
    const o = at
    at += convPacketsOf(s, g.lanes, weightBytes).bytes
    return o
  })
}

/** `let mask := … let bw := …` for a conv lane group's packets (convBlob.ts). */
export function masksDecl(s: ConvStep, lanes: number, weightBytes: number): string {
  const { mask, bias } = convLaneMasks(s, lanes, weightBytes)
  return `let mask := 0x${mask.toString(16)} let bw := 0x${bias.toString(16)}`
}

/** Signed lane word j of the packet held in `m`: its biased weights masked out, the bias taken off. */
export function packetWord(s: ConvStep, lanes: number, weightBytes: number, j: number): string {
  const sh = convPacketShift(s, lanes, weightBytes, j)
  return `sub(and(${sh ? `shr(${sh}, m)` : 'm'}, mask), bw)`
}

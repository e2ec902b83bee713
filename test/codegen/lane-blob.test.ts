// The interleaved weight blob (weightBlob.ts) read back the way the lane kernel reads it (laneKernel.ts):
// one 32-byte word per packet, lane word j = and(shr(shift(j), m), mask) minus 2^(8·wb−1) in every lane,
// must hold, lane by lane, the signed weights of the group's outputs for input t·perWord + j; the bias
// packet must hold the biases as a signed lane word. And the blob stays about one storage width per
// weight (the upload gas of the compact encoding).
import { describe, expect, test } from 'bun:test'
import { blobLayout, encodeWeights, laneMask, packetAt, packetShift, weightBiasWord } from '../../src/codegen/weights/weightBlob.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import type { Plan } from '../../src/fixed/types.ts'
import { randomMlp } from '../helpers/randomMlp.ts'

const word = (blob: Uint8Array, at: number) => {
  let v = 0n
  for (let b = 0; b < 32; b++) v = (v << 8n) | BigInt(at + b >= 0 && at + b < blob.length ? blob[at + b]! : 0)
  return v
}
const lanesOf = (w: bigint, lanes: number, spacing: number) => {
  // split a signed-sum word as the contract does: SIGNEXTEND the low lane, subtract it, shift
  const out: bigint[] = []
  let acc = BigInt.asIntN(256, w)
  for (let k = 0; k < lanes; k++) {
    const lane = BigInt.asIntN(spacing, acc)
    out.push(lane)
    acc = (acc - lane) >> BigInt(spacing)
  }
  return out
}

function readBack(plan: Plan) {
  const blob = encodeWeights(plan)
  const wb = plan.weightBytes
  blobLayout(plan).layers.forEach((lb, l) => {
    const layer = plan.layers[l]!
    for (const g of lb.groups) {
      expect(g.spacing).toBeGreaterThanOrEqual(layer.laneBits)
      expect(g.lanes * g.spacing).toBeLessThanOrEqual(256)
      const bias = g.lanes === 1 ? BigInt.asIntN(8 * plan.biasBytes, word(blob, g.at) >> BigInt(256 - 8 * plan.biasBytes)) : undefined
      if (bias !== undefined) expect(bias).toBe(layer.biases[g.first]!)
      else expect(lanesOf(word(blob, g.at) >> BigInt(256 - 8 * Math.ceil((g.lanes * g.spacing) / 8)), g.lanes, g.spacing)).toEqual(layer.biases.slice(g.first, g.first + g.lanes))
      for (let t = 0; t < g.packets; t++) {
        const m = word(blob, g.at + packetAt(g, t))
        for (let j = 0; j < g.perWord && t * g.perWord + j < layer.nIn; j++) {
          const lw = ((m >> BigInt(packetShift(g, j, wb))) & laneMask(g, wb)) - weightBiasWord(g, wb)
          const expected = Array.from({ length: g.lanes }, (_, k) => layer.weights[g.first + k]![t * g.perWord + j]!)
          expect(lanesOf(lw, g.lanes, g.spacing)).toEqual(expected)
        }
      }
    }
  })
}

describe('interleaved blob: lane words read back as the kernel reads them', () => {
  for (const [sizes, wb, inB] of [
    [[30, 4, 1], 2, 2],
    [[13, 7, 3], 1, 2],
    [[9, 40, 3], 2, 4],
    [[17, 11, 5, 2], 3, 4],
    [[5, 6, 2], 4, 4],
    [[6, 5, 2], 8, 8],
    [[100, 1], 2, 4],
    // int4: nibble fields, packets of an odd number of nibbles padded to a byte, trimmed lone packets
    [[13, 7, 3], 0.5, 2],
    [[3, 9, 5], 0.5, 1],
    [[40, 30, 20, 5], 0.5, 2],
  ] as [number[], number, number][])
    test(`${sizes.join('-')}, int${8 * wb} weights`, () => readBack(makePlan(randomMlp(sizes, sizes.length * 7 + wb, { bias: 1 }), { fraction: 20, weightBytes: wb, inputBytes: inB })))
})

test('the blob stays about one storage width per weight: upload gas is per weight byte', () => {
  for (const [sizes, wb] of [
    [[784, 128, 10], 2],
    [[784, 128, 10], 1],
    [[64, 128, 64, 32, 10], 2],
  ] as [number[], number][]) {
    const plan = makePlan(randomMlp(sizes, 1, { bias: 1 }), { fraction: 20, weightBytes: wb, inputBytes: 2 })
    const weights = plan.layers.reduce((n, l) => n + l.nIn * l.nOut, 0)
    const length = blobLayout(plan).length
    expect(length).toBeGreaterThanOrEqual(weights * wb)
    expect(length / (weights * wb)).toBeLessThan(1.06)
  }
})

import { laneGroupsOf, tapsOf, type ConvStep, type TensorStep } from './convTypes.ts'
import { writeInt } from './writeInt.ts'

export type ConvBlobLayer = { weightsAt: number; biasesAt: number }
export type ConvBlobLayout = { layers: (ConvBlobLayer | undefined)[]; length: number }

/**
 * The canonical weight encoding of a tensor network (its keccak256 is the model commitment). Per
 * convolution (a dense layer is a 1×1 one): for each lane group, for each tap (cin, ky, kx), the group's
 * weights for that tap (big-endian two's complement, `weightBytes` each), so that one MLOAD fetches what a
 * SIMD word needs; then the biases in output-channel order. Pooling has no weights.
 */
export function convBlobLayout(steps: TensorStep[], weightBytes: number, biasBytes: number): ConvBlobLayout {
  let at = 0
  const layers = steps.map((s) => {
    if (s.kind !== 'conv') return undefined
    const weightsAt = at
    at += s.outShape.c * tapsOf(s) * weightBytes
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

export function encodeConvBlob(steps: TensorStep[], weightBytes: number, biasBytes: number): Uint8Array {
  const layout = convBlobLayout(steps, weightBytes, biasBytes)
  const out = new Uint8Array(layout.length)
  steps.forEach((s, i) => {
    if (s.kind !== 'conv') return
    const { weightsAt, biasesAt } = layout.layers[i]!
    let at = weightsAt
    const taps = tapsOf(s)
    for (const g of laneGroupsOf(s))
      for (let t = 0; t < taps; t++)
        for (let k = 0; k < g.lanes; k++, at += weightBytes) writeInt(out, at, tapWeight(s, g.first + k, t), weightBytes)
    s.biases.forEach((b, j) => writeInt(out, biasesAt + j * biasBytes, b, biasBytes))
  })
  return out
}

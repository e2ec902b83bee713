import type { ConvLayer } from '../ir/tensorTypes.ts'
import { activateFixed, activateFloat } from './tensorActivation.ts'
import type { ConvPlan } from './tensorPlanTypes.ts'
import { gridOf, windowTaps } from './window.ts'

/**
 * Convolution, float and fixed point side by side: the same loops over output channel o, output row oh,
 * output column ow, then input channel c of o's group, then the window's in-range taps.
 */
export function floatConv(layer: ConvLayer, x: number[]): number[] {
  const g = gridOf(layer)
  const inPer = g.inC / layer.groups
  const outPer = g.outC / layer.groups
  const kArea = g.kH * g.kW
  const y = new Array<number>(g.outC * g.outH * g.outW)
  for (let o = 0; o < g.outC; o++) {
    const c0 = Math.floor(o / outPer) * inPer
    for (let oh = 0; oh < g.outH; oh++)
      for (let ow = 0; ow < g.outW; ow++) {
        const { offsets, taps } = windowTaps(g, oh, ow)
        let acc = layer.bias[o]!
        for (let c = 0; c < inPer; c++) {
          const wBase = (o * inPer + c) * kArea
          const xBase = (c0 + c) * g.inH * g.inW
          for (let t = 0; t < taps.length; t++) acc += layer.weight[wBase + taps[t]!]! * x[xBase + offsets[t]!]!
        }
        y[(o * g.outH + oh) * g.outW + ow] = acc
      }
  }
  return activateFloat(y, layer.activation)
}

export function fixedConv(layer: ConvPlan, x: bigint[], slopeBits: number, scale: bigint): bigint[] {
  const g = gridOf(layer)
  const inPer = g.inC / layer.groups
  const outPer = g.outC / layer.groups
  const kArea = g.kH * g.kW
  const s = BigInt(layer.wShift)
  const y = new Array<bigint>(g.outC * g.outH * g.outW)
  for (let o = 0; o < g.outC; o++) {
    const c0 = Math.floor(o / outPer) * inPer
    for (let oh = 0; oh < g.outH; oh++)
      for (let ow = 0; ow < g.outW; ow++) {
        const { offsets, taps } = windowTaps(g, oh, ow)
        let acc = layer.biases[o]!
        for (let c = 0; c < inPer; c++) {
          const wBase = (o * inPer + c) * kArea
          const xBase = (c0 + c) * g.inH * g.inW
          for (let t = 0; t < taps.length; t++) acc += layer.weights[wBase + taps[t]!]! * x[xBase + offsets[t]!]!
        }
        y[(o * g.outH + oh) * g.outW + ow] = acc >> s
      }
  }
  return activateFixed(y, layer.activation, layer.slopeQ, slopeBits, scale)
}

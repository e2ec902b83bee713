import type { PoolLayer } from '../ir/tensorTypes.ts'
import { activateFixed, activateFloat } from './tensorActivation.ts'
import { avgFixed, type PoolPlan } from './tensorPlanTypes.ts'
import { allWindowTaps, gridOf } from './window.ts'

/** The divisor of an average window: the whole window (countIncludePad) or its in-range positions. */
const divisorOf = (layer: { countIncludePad: boolean; kernel: number[] }, inRange: number) =>
  layer.countIncludePad ? layer.kernel.reduce((a, b) => a * b, 1) : inRange

/** Max / average pooling, float and fixed point side by side: same loops, same windows. */
export function floatPool(layer: PoolLayer, x: number[]): number[] {
  const g = gridOf(layer)
  const y = new Array<number>(g.outC * g.outH * g.outW)
  const windows = allWindowTaps(g)
  for (let c = 0; c < g.outC; c++)
    for (let oh = 0; oh < g.outH; oh++)
      for (let ow = 0; ow < g.outW; ow++) {
        const { offsets } = windows[oh * g.outW + ow]!
        const base = c * g.inH * g.inW
        let v: number
        if (layer.kind === 'maxpool') {
          v = -Infinity
          for (const off of offsets) if (x[base + off]! > v) v = x[base + off]!
        } else {
          v = 0
          for (const off of offsets) v += x[base + off]!
          v /= divisorOf(layer, offsets.length)
        }
        y[(c * g.outH + oh) * g.outW + ow] = v
      }
  return activateFloat(y, layer.activation)
}

export function fixedPool(layer: PoolPlan, x: bigint[], slopeBits: number, scale: bigint): bigint[] {
  const g = gridOf(layer)
  const y = new Array<bigint>(g.outC * g.outH * g.outW)
  const windows = allWindowTaps(g)
  for (let c = 0; c < g.outC; c++)
    for (let oh = 0; oh < g.outH; oh++)
      for (let ow = 0; ow < g.outW; ow++) {
        const { offsets } = windows[oh * g.outW + ow]!
        const base = c * g.inH * g.inW
        let v: bigint
        if (layer.kind === 'maxpool') {
          v = x[base + offsets[0]!]!
          for (const off of offsets) if (x[base + off]! > v) v = x[base + off]!
        } else {
          v = 0n
          for (const off of offsets) v += x[base + off]!
          v = avgFixed(v, divisorOf(layer, offsets.length))
        }
        y[(c * g.outH + oh) * g.outW + ow] = v
      }
  return activateFixed(y, layer.activation, layer.slopeQ, slopeBits, scale)
}

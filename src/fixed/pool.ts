import type { PoolLayer } from '../ir/tensorTypes.ts'
import { activateFixed, activateFloat } from './tensorActivation.ts'
import { avgFixed, type PoolPlan } from './tensorPlanTypes.ts'
import { allWindowTaps, gridOf } from '../ir/window.ts'
import { spanWindows } from '../ir/poolSpans.ts'

/** Each output position's window (offsets within a channel) and its average divisor: explicit spans (ceil_mode, adaptive) or kernel geometry. */
function windowsOf(layer: PoolLayer | PoolPlan): { offsets: number[]; div: number }[] {
  const g = gridOf(layer)
  if (layer.spans) return spanWindows(layer.spans, g.inW)
  return allWindowTaps(g).map(({ offsets }) => ({ offsets, div: divisorOf(layer, offsets.length) }))
}

/** The divisor of an average window: the whole window (countIncludePad) or its in-range positions. */
const divisorOf = (layer: { countIncludePad: boolean; kernel: number[] }, inRange: number) =>
  layer.countIncludePad ? layer.kernel.reduce((a, b) => a * b, 1) : inRange

/** Max / average pooling, float and fixed point side by side: same loops, same windows. */
export function floatPool(layer: PoolLayer, x: number[]): number[] {
  const g = gridOf(layer)
  const y = new Array<number>(g.outC * g.outH * g.outW)
  const windows = windowsOf(layer)
  for (let c = 0; c < g.outC; c++)
    for (let oh = 0; oh < g.outH; oh++)
      for (let ow = 0; ow < g.outW; ow++) {
        const { offsets, div } = windows[oh * g.outW + ow]!
        const base = c * g.inH * g.inW
        let v: number
        if (layer.kind === 'maxpool') {
          v = -Infinity
          for (const off of offsets) if (x[base + off]! > v) v = x[base + off]!
        } else {
          v = 0
          for (const off of offsets) v += x[base + off]!
          v /= div
        }
        y[(c * g.outH + oh) * g.outW + ow] = v
      }
  return activateFloat(y, layer.activation)
}

export function fixedPool(layer: PoolPlan, x: bigint[], slopeBits: number, scale: bigint): bigint[] {
  const g = gridOf(layer)
  const y = new Array<bigint>(g.outC * g.outH * g.outW)
  const windows = windowsOf(layer)
  for (let c = 0; c < g.outC; c++)
    for (let oh = 0; oh < g.outH; oh++)
      for (let ow = 0; ow < g.outW; ow++) {
        const { offsets, div } = windows[oh * g.outW + ow]!
        const base = c * g.inH * g.inW
        let v: bigint
        if (layer.kind === 'maxpool') {
          v = x[base + offsets[0]!]!
          for (const off of offsets) if (x[base + off]! > v) v = x[base + off]!
        } else {
          v = 0n
          for (const off of offsets) v += x[base + off]!
          v = avgFixed(v, div)
        }
        y[(c * g.outH + oh) * g.outW + ow] = v
      }
  return activateFixed(y, layer.activation, layer.slopeQ, slopeBits, scale)
}

import type { Geometry } from './tensorTypes.ts'

/**
 * A window layer's geometry seen as 2-D (a 1-D layer is 2-D with height 1), shared by the float and the
 * fixed-point twins (fixed/conv.ts, fixed/pool.ts) and ir/buildTensorLayers.ts, so all visit exactly the same input positions in the same order.
 */
export type Grid = {
  inC: number
  inH: number
  inW: number
  outC: number
  outH: number
  outW: number
  kH: number
  kW: number
  sH: number
  sW: number
  dH: number
  dW: number
  padTop: number
  padLeft: number
}

export function gridOf(g: Geometry): Grid {
  const two = g.inShape.length === 3
  const pick = (v: number[], dflt: number): [number, number] => (two ? [v[0]!, v[1]!] : [dflt, v[0]!])
  const [inH, inW] = pick(g.inShape.slice(1), 1)
  const [outH, outW] = pick(g.outShape.slice(1), 1)
  const [kH, kW] = pick(g.kernel, 1)
  const [sH, sW] = pick(g.stride, 1)
  const [dH, dW] = pick(g.dilation, 1)
  const [padTop, padLeft] = pick(g.padBegin, 0)
  return { inC: g.inShape[0]!, inH, inW, outC: g.outShape[0]!, outH, outW, kH, kW, sH, sW, dH, dW, padTop, padLeft }
}

/**
 * The in-range taps of the window at output position (oh, ow): flat offsets `ih·inW + iw` within one
 * channel, and the matching tap index `kh·kW + kw` (row-major over the kernel). Padding positions are left out.
 */
export function windowTaps(g: Grid, oh: number, ow: number): { offsets: number[]; taps: number[] } {
  const offsets: number[] = []
  const taps: number[] = []
  for (let kh = 0; kh < g.kH; kh++) {
    const ih = oh * g.sH - g.padTop + kh * g.dH
    if (ih < 0 || ih >= g.inH) continue
    for (let kw = 0; kw < g.kW; kw++) {
      const iw = ow * g.sW - g.padLeft + kw * g.dW
      if (iw < 0 || iw >= g.inW) continue
      offsets.push(ih * g.inW + iw)
      taps.push(kh * g.kW + kw)
    }
  }
  return { offsets, taps }
}

/** windowTaps for every output position, row-major (computed once per layer call, not per channel). */
export function allWindowTaps(g: Grid): { offsets: number[]; taps: number[] }[] {
  const out: { offsets: number[]; taps: number[] }[] = []
  for (let oh = 0; oh < g.outH; oh++) for (let ow = 0; ow < g.outW; ow++) out.push(windowTaps(g, oh, ow))
  return out
}

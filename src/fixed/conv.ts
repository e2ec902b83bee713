import type { ConvLayer } from '../ir/tensorTypes.ts'
import { activateFixed, activateFloat } from './tensorActivation.ts'
import type { ConvPlan } from './tensorPlanTypes.ts'
import { allWindowTaps, gridOf } from '../ir/window.ts'
import { EXACT, maxAbs, weightLimbs } from './weightLimbs.ts'

/**
 * Convolution, float and fixed point side by side: the same loops over output channel o, output
 * position (row-major), then input channel c of o's group, then the window's in-range taps.
 */
export function floatConv(layer: ConvLayer, x: number[]): number[] {
  const g = gridOf(layer)
  const inPer = g.inC / layer.groups
  const outPer = g.outC / layer.groups
  const kArea = g.kH * g.kW
  const positions = allWindowTaps(g)
  const y = new Array<number>(g.outC * positions.length)
  for (let o = 0; o < g.outC; o++) {
    const c0 = Math.floor(o / outPer) * inPer
    positions.forEach(({ offsets, taps }, p) => {
      let acc = layer.bias[o]!
      for (let c = 0; c < inPer; c++) {
        const wBase = (o * inPer + c) * kArea
        const xBase = (c0 + c) * g.inH * g.inW
        for (let t = 0; t < taps.length; t++) acc += layer.weight[wBase + taps[t]!]! * x[xBase + offsets[t]!]!
      }
      y[o * positions.length + p] = acc
    })
  }
  return activateFloat(y, layer.activation)
}

/**
 * Whether every partial sum of every accumulator stays below 2^53 for this input: |bq[o]| + Σ|wq[o]|·max|x|
 * bounds them all (checked on the actual input, not only the plan's safe range).
 */
function fitsDoubles(layer: ConvPlan, x: bigint[], perOut: number): boolean {
  const xMax = maxAbs(x)
  if (xMax >= EXACT) return false
  for (let o = 0; o < layer.biases.length; o++) {
    let sum = 0n
    for (let i = o * perOut; i < (o + 1) * perOut; i++) sum += layer.weights[i]! < 0n ? -layer.weights[i]! : layer.weights[i]!
    const b = layer.biases[o]! < 0n ? -layer.biases[o]! : layer.biases[o]!
    if (b + sum * xMax >= EXACT) return false
  }
  return true
}

/** The conv's weights in two limbs where one double sum would pass 2^53 (weightLimbs.ts). */
export const limbsFor = (layer: ConvPlan, x: bigint[], perOut: number) => weightLimbs(layer, () => layer.weights, layer.biases.length, perOut, x)

/**
 * The fixed-point conv, exactly as the contract: acc = bq[o] + Σ wq·x over in-range taps, then acc >> wShift
 * (floor). When fitsDoubles proves every partial sum below 2^53, the sums run in doubles, exactly, and
 * the floor shift is an exact division by 2^wShift; else, when limbsFor splits the weights in two, two exact
 * sums in doubles joined in BigInt (`exact: 'bigint'` forces BigInt, for tests).
 */
export function fixedConv(layer: ConvPlan, x: bigint[], slopeBits: number, scale: bigint, exact: 'auto' | 'bigint' = 'auto'): bigint[] {
  const g = gridOf(layer)
  const inPer = g.inC / layer.groups
  const outPer = g.outC / layer.groups
  const kArea = g.kH * g.kW
  const s = BigInt(layer.wShift)
  const positions = allWindowTaps(g)
  const y = new Array<bigint>(g.outC * positions.length)
  if (exact === 'auto' && fitsDoubles(layer, x, kArea * inPer)) {
    const xn = x.map(Number)
    const wn = layer.weights.map(Number)
    const div = 2 ** layer.wShift
    for (let o = 0; o < g.outC; o++) {
      const c0 = Math.floor(o / outPer) * inPer
      const bias = Number(layer.biases[o]!)
      positions.forEach(({ offsets, taps }, p) => {
        let acc = bias
        for (let c = 0; c < inPer; c++) {
          const wBase = (o * inPer + c) * kArea
          const xBase = (c0 + c) * g.inH * g.inW
          for (let t = 0; t < taps.length; t++) acc += wn[wBase + taps[t]!]! * xn[xBase + offsets[t]!]!
        }
        y[o * positions.length + p] = BigInt(Math.floor(acc / div))
      })
    }
    return activateFixed(y, layer.activation, layer.slopeQ, slopeBits, scale)
  }
  const limbs = exact === 'auto' ? limbsFor(layer, x, kArea * inPer) : undefined
  if (limbs) {
    // two sums in doubles, each exact (limbsFor), joined in BigInt: acc = bq[o] + (Σ hi·x)·2^L + Σ lo·x
    const xn = x.map(Number)
    const L = BigInt(limbs.L)
    for (let o = 0; o < g.outC; o++) {
      const c0 = Math.floor(o / outPer) * inPer
      positions.forEach(({ offsets, taps }, p) => {
        let hi = 0
        let lo = 0
        for (let c = 0; c < inPer; c++) {
          const wBase = (o * inPer + c) * kArea
          const xBase = (c0 + c) * g.inH * g.inW
          for (let t = 0; t < taps.length; t++) {
            const xv = xn[xBase + offsets[t]!]!
            hi += limbs.hi[wBase + taps[t]!]! * xv
            lo += limbs.lo[wBase + taps[t]!]! * xv
          }
        }
        y[o * positions.length + p] = (layer.biases[o]! + (BigInt(hi) << L) + BigInt(lo)) >> s
      })
    }
    return activateFixed(y, layer.activation, layer.slopeQ, slopeBits, scale)
  }
  for (let o = 0; o < g.outC; o++) {
    const c0 = Math.floor(o / outPer) * inPer
    positions.forEach(({ offsets, taps }, p) => {
      let acc = layer.biases[o]!
      for (let c = 0; c < inPer; c++) {
        const wBase = (o * inPer + c) * kArea
        const xBase = (c0 + c) * g.inH * g.inW
        for (let t = 0; t < taps.length; t++) acc += layer.weights[wBase + taps[t]!]! * x[xBase + offsets[t]!]!
      }
      y[o * positions.length + p] = acc >> s
    })
  }
  return activateFixed(y, layer.activation, layer.slopeQ, slopeBits, scale)
}

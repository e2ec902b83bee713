import { activateRows, EXACT, rowMaxAbs, SUM_LIMIT, toExactNumber, type NumericRows } from './numericRows.ts'
import { avgFixed, type ConvPlan, type JoinPlan, type PoolPlan, type TensorLayerPlan } from './tensorPlanTypes.ts'
import { isJoin, tensorInputOf } from '../ir/tensorTypes.ts'
import { allWindowTaps, gridOf, type Grid } from '../ir/window.ts'

/**
 * The conv/pool stack over a batch of rows in doubles, exactly as conv.ts and pool.ts compute it in
 * BigInt (the same windows, the same in-range taps): a row runs here while every accumulator is proven
 * below 2^52 on its own values; otherwise it is cleared in `ok` and recomputed in BigInt by the driver.
 */
export function tensorRows(layers: TensorLayerPlan[], input: NumericRows, ctx: { scale: bigint; slopeBits: number }): NumericRows {
  // a graph's layer reads the value it names (0 the input, k layer k−1's output)
  const values = [input]
  layers.forEach((layer, l) => {
    const x = values[tensorInputOf(layer, l)]!
    const b = isJoin(layer) ? joinRows(layer, layer.values.map((v) => values[v]!)) : layer.kind === 'conv' ? convRows(layer, x) : poolRows(layer, x)
    activateRows(b, layer.activation, layer.slopeQ, ctx)
    values.push(b)
  })
  return values[values.length - 1]!
}

/** A residual add (a row leaves the fast path when a sum could reach 2^52) or a channel concat (each row's parts in order). */
function joinRows(layer: JoinPlan, parts: NumericRows[]): NumericRows {
  const rows = parts[0]!.rows
  const width = layer.kind === 'add' ? parts[0]!.width : parts.reduce((w, p) => w + p.width, 0)
  const out = new Float64Array(rows * width)
  const ok = parts[0]!.ok.slice()
  for (let r = 0; r < rows; r++) {
    if (parts.some((p) => !p.ok[r])) ok[r] = 0
    if (!ok[r]) continue
    if (layer.kind === 'concat') {
      let at = r * width
      for (const p of parts) out.set(p.x.subarray(r * p.width, (r + 1) * p.width), at), (at += p.width)
      continue
    }
    for (let i = 0; i < width; i++) {
      let v = 0
      for (const p of parts) v += p.x[r * width + i]!
      if (!(v < SUM_LIMIT && v > -SUM_LIMIT)) {
        ok[r] = 0
        break
      }
      out[r * width + i] = v
    }
  }
  return { rows, width, x: out, ok }
}

/** Every output position's in-range taps, flat: for position p, entries start[p] … start[p+1]−1. */
type Taps = { g: Grid; start: Int32Array; offsets: Int32Array; taps: Int32Array; positions: number }
const tapCache = new WeakMap<TensorLayerPlan, Taps>()

function tapsOf(layer: TensorLayerPlan): Taps {
  let t = tapCache.get(layer)
  if (t) return t
  const g = gridOf(layer)
  const all = allWindowTaps(g)
  const start = new Int32Array(all.length + 1)
  all.forEach((w, p) => (start[p + 1] = start[p]! + w.offsets.length))
  t = { g, start, offsets: Int32Array.from(all.flatMap((w) => w.offsets)), taps: Int32Array.from(all.flatMap((w) => w.taps)), positions: all.length }
  tapCache.set(layer, t)
  return t
}

type ConvNumbers = { w: Float64Array; b: Float64Array; bound: Float64Array; exact: boolean }
const convCache = new WeakMap<ConvPlan, ConvNumbers>()

function convNumbersOf(layer: ConvPlan, perOut: number): ConvNumbers {
  let c = convCache.get(layer)
  if (c) return c
  const w = Float64Array.from(layer.weights, Number)
  const b = Float64Array.from(layer.biases, Number)
  const exact = w.every((v) => Math.abs(v) < EXACT) && b.every((v) => Math.abs(v) < EXACT)
  // bound[o] = Σ|wq| of output channel o (each accumulator adds at most that many |x|, on top of |bq|)
  const bound = new Float64Array(b.length)
  for (let o = 0; o < b.length; o++) for (let i = o * perOut; i < (o + 1) * perOut; i++) bound[o]! += Math.abs(w[i]!)
  c = { w, b, bound, exact }
  convCache.set(layer, c)
  return c
}

/**
 * Each output position's window over one group's input channels, flat: for position p, entries
 * start[p] … start[p+1]−1, each a weight index within output channel o (c·kArea + tap) and an input
 * index within the row (c·inH·inW + offset, from the group's first channel). Padding taps are left out.
 */
type Patches = { start: Int32Array; wk: Int32Array; xk: Int32Array }
const patchCache = new WeakMap<ConvPlan, Patches>()

function patchesOf(layer: ConvPlan): Patches {
  let pt = patchCache.get(layer)
  if (pt) return pt
  const { g, start: s0, offsets, taps, positions } = tapsOf(layer)
  const inPer = g.inC / layer.groups
  const kArea = g.kH * g.kW
  const start = new Int32Array(positions + 1)
  const wk: number[] = []
  const xk: number[] = []
  for (let p = 0; p < positions; p++) {
    for (let c = 0; c < inPer; c++)
      for (let t = s0[p]!; t < s0[p + 1]!; t++) wk.push(c * kArea + taps[t]!), xk.push(c * g.inH * g.inW + offsets[t]!)
    start[p + 1] = wk.length
  }
  pt = { start, wk: Int32Array.from(wk), xk: Int32Array.from(xk) }
  patchCache.set(layer, pt)
  return pt
}

/**
 * acc = bq[o] + Σ wq·x over the in-range taps, then the floor shift by wShift (conv.ts's sums, in doubles;
 * exact, so the order of the additions is free). Four rows at a time share each weight and index load.
 */
function convRows(layer: ConvPlan, input: NumericRows): NumericRows {
  const { g, positions } = tapsOf(layer)
  const { start, wk, xk } = patchesOf(layer)
  const inPer = g.inC / layer.groups
  const outPer = g.outC / layer.groups
  const K = g.kH * g.kW * inPer
  const n = convNumbersOf(layer, K)
  const width = g.outC * positions
  const out = new Float64Array(input.rows * width)
  const ok = input.ok.slice()
  const { w, x } = { w: n.w, x: input.x }
  const live: number[] = []
  for (let r = 0; r < input.rows; r++) {
    if (!ok[r]) continue
    const m = rowMaxAbs(input, r)
    let fits = n.exact
    for (let o = 0; fits && o < g.outC; o++) fits = Math.abs(n.b[o]!) + n.bound[o]! * m < SUM_LIMIT
    if (fits) live.push(r)
    else ok[r] = 0
  }
  const div = 2 ** layer.wShift
  const W = input.width
  for (let o = 0; o < g.outC; o++) {
    const xg = Math.floor(o / outPer) * inPer * g.inH * g.inW
    const wo = o * K
    const bias = n.b[o]!
    let q = 0
    for (; q + 4 <= live.length; q += 4) {
      const [x0, x1, x2, x3] = [live[q]! * W + xg, live[q + 1]! * W + xg, live[q + 2]! * W + xg, live[q + 3]! * W + xg]
      const [y0, y1, y2, y3] = [live[q]! * width, live[q + 1]! * width, live[q + 2]! * width, live[q + 3]! * width]
      for (let p = 0; p < positions; p++) {
        let a0 = bias
        let a1 = bias
        let a2 = bias
        let a3 = bias
        for (let e = start[p]!; e < start[p + 1]!; e++) {
          const wv = w[wo + wk[e]!]!
          const k = xk[e]!
          a0 += wv * x[x0 + k]!
          a1 += wv * x[x1 + k]!
          a2 += wv * x[x2 + k]!
          a3 += wv * x[x3 + k]!
        }
        const at = o * positions + p
        out[y0 + at] = Math.floor(a0 / div)
        out[y1 + at] = Math.floor(a1 / div)
        out[y2 + at] = Math.floor(a2 / div)
        out[y3 + at] = Math.floor(a3 / div)
      }
    }
    for (; q < live.length; q++) {
      const x0 = live[q]! * W + xg
      for (let p = 0; p < positions; p++) {
        let a = bias
        for (let e = start[p]!; e < start[p + 1]!; e++) a += w[wo + wk[e]!]! * x[x0 + xk[e]!]!
        out[live[q]! * width + o * positions + p] = Math.floor(a / div)
      }
    }
  }
  return { rows: input.rows, width, x: out, ok }
}

/** Max pooling (exact in doubles) and average pooling as pool.ts: a power-of-two divisor in doubles, any other in BigInt (avgFixed). */
function poolRows(layer: PoolPlan, input: NumericRows): NumericRows {
  const { g, start, offsets, positions } = tapsOf(layer)
  const inHW = g.inH * g.inW
  const width = g.outC * positions
  const out = new Float64Array(input.rows * width)
  const ok = input.ok.slice()
  const x = input.x
  const full = g.kH * g.kW
  for (let r = 0; r < input.rows; r++) {
    if (!ok[r]) continue
    // an average's sum (and its half-divisor) must stay exact: at most `full` values of |x| ≤ max
    if (layer.kind === 'avgpool' && !(rowMaxAbs(input, r) * full + full < SUM_LIMIT)) {
      ok[r] = 0
      continue
    }
    for (let c = 0; c < g.outC; c++) {
      const base = r * input.width + c * inHW
      for (let p = 0; p < positions; p++) {
        const t0 = start[p]!
        const t1 = start[p + 1]!
        let v: number
        if (layer.kind === 'maxpool') {
          v = x[base + offsets[t0]!]!
          for (let t = t0 + 1; t < t1; t++) if (x[base + offsets[t]!]! > v) v = x[base + offsets[t]!]!
        } else {
          let sum = 0
          for (let t = t0; t < t1; t++) sum += x[base + offsets[t]!]!
          const d = layer.countIncludePad ? full : t1 - t0
          // (sum·R + 2^63) >> 64 with R = 2^64 / d is floor((sum + d/2) / d) for d a power of two (d = 1: sum)
          if ((d & (d - 1)) === 0) v = d === 1 ? sum : Math.floor((sum + d / 2) / d)
          else {
            const q = toExactNumber(avgFixed(BigInt(sum), d))
            if (q === undefined) {
              ok[r] = 0
              break
            }
            v = q
          }
        }
        out[r * width + c * positions + p] = v
      }
      if (!ok[r]) break
    }
  }
  return { rows: input.rows, width, x: out, ok }
}

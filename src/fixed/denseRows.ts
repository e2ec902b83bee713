import type { LayerPlan } from './types.ts'
import { EXACT, rowMaxAbs, SUM_LIMIT, type NumericRows } from './numericRows.ts'

/**
 * A dense layer's integers as doubles, made once per layer: the weights ([out][in]) and transposed
 * ([in][out]: one input's weights for every output contiguous), each output's Σ|w| and the biases. `exact` is
 * false when a weight or a bias is itself beyond 2^53 (the layer then always runs in BigInt).
 */
type DenseNumbers = { w: Float64Array; wt: Float64Array; sumAbs: Float64Array; b: Float64Array; absB: Float64Array; exact: boolean }
const cache = new WeakMap<LayerPlan, DenseNumbers>()

function numbersOf(layer: LayerPlan): DenseNumbers {
  let d = cache.get(layer)
  if (d) return d
  const nOut = layer.weights.length
  const nIn = layer.weights[0]?.length ?? 0
  const w = new Float64Array(nIn * nOut)
  const wt = new Float64Array(nIn * nOut)
  const sumAbs = new Float64Array(nOut)
  let exact = true
  for (let j = 0; j < nOut; j++) {
    const row = layer.weights[j]!
    for (let i = 0; i < nIn; i++) {
      const v = Number(row[i]!)
      if (!(Math.abs(v) < EXACT)) exact = false
      w[j * nIn + i] = v
      wt[i * nOut + j] = v
      sumAbs[j]! += Math.abs(v)
    }
  }
  const b = Float64Array.from(layer.biases, Number)
  if (b.some((v) => !(Math.abs(v) < EXACT))) exact = false
  d = { w, wt, sumAbs, b, absB: b.map(Math.abs), exact }
  cache.set(layer, d)
  return d
}

/**
 * y = (bq + Wq·x) >> wShift for every live row, in doubles, exactly: a row runs here only when every
 * partial sum of every output is proven below 2^52 (|bq_j| + Σ|wq_j|·max|x| on that row's own values),
 * so each product and sum is an exact integer and the order of the additions does not matter; the floor
 * shift is then an exact division by 2^wShift and a floor. Rows that fail the bound are cleared in `ok`.
 *
 * Two loop orders, chosen by the batch's share of zero inputs: dense inputs run four rows at a time, each
 * weight row loaded once for the four (denseBlock); mostly-zero inputs (pixels, ReLU outputs) run row by row
 * over the transposed weights, skipping a zero input's whole row of weights (sparseRow).
 */
export function denseRows(layer: LayerPlan, input: NumericRows): NumericRows {
  const d = numbersOf(layer)
  const nIn = input.width
  const nOut = d.b.length
  const rows = input.rows
  const out = new Float64Array(rows * nOut)
  const ok = input.ok.slice()
  if (!d.exact) ok.fill(0)
  let zeros = 0
  for (let r = 0; r < rows; r++) {
    if (!ok[r]) continue
    const m = rowMaxAbs(input, r)
    for (let j = 0; j < nOut; j++)
      if (!(d.absB[j]! + d.sumAbs[j]! * m < SUM_LIMIT)) {
        ok[r] = 0
        break
      }
    if (ok[r]) for (let i = r * nIn; i < (r + 1) * nIn; i++) if (input.x[i] === 0) zeros++
  }
  if (zeros * 2 >= rows * nIn) for (let r = 0; r < rows; r++) ok[r] && sparseRow(d, input.x, r, nIn, out)
  else denseBlock(d, input.x, rows, nIn, out)
  const div = 2 ** layer.wShift
  for (let k = 0; k < out.length; k++) out[k] = Math.floor(out[k]! / div)
  return { rows, width: nOut, x: out, ok }
}

/** Four rows at a time: each weight is loaded once for the four rows' accumulators; the last rows one at a time. */
function denseBlock(d: DenseNumbers, x: Float64Array, rows: number, nIn: number, out: Float64Array): void {
  const { w, b } = d
  const nOut = b.length
  let r = 0
  for (; r + 4 <= rows; r += 4) {
    const x0 = r * nIn
    for (let j = 0; j < nOut; j++) {
      let a0 = b[j]!
      let a1 = a0
      let a2 = a0
      let a3 = a0
      const wb = j * nIn
      for (let i = 0; i < nIn; i++) {
        const wv = w[wb + i]!
        const p = x0 + i
        a0 += wv * x[p]!
        a1 += wv * x[p + nIn]!
        a2 += wv * x[p + 2 * nIn]!
        a3 += wv * x[p + 3 * nIn]!
      }
      const o = r * nOut + j
      out[o] = a0
      out[o + nOut] = a1
      out[o + 2 * nOut] = a2
      out[o + 3 * nOut] = a3
    }
  }
  for (; r < rows; r++)
    for (let j = 0; j < nOut; j++) {
      let a = b[j]!
      const wb = j * nIn
      const xb = r * nIn
      for (let i = 0; i < nIn; i++) a += w[wb + i]! * x[xb + i]!
      out[r * nOut + j] = a
    }
}

/** One row over the transposed weights: a zero input skips its weights; four outputs per step. */
function sparseRow(d: DenseNumbers, x: Float64Array, r: number, nIn: number, out: Float64Array): void {
  const { wt, b } = d
  const nOut = b.length
  const ab = r * nOut
  const j4 = nOut - (nOut % 4)
  out.set(b, ab)
  for (let i = 0; i < nIn; i++) {
    const v = x[r * nIn + i]!
    if (v === 0) continue
    const wb = i * nOut
    let j = 0
    for (; j < j4; j += 4) {
      out[ab + j]! += v * wt[wb + j]!
      out[ab + j + 1]! += v * wt[wb + j + 1]!
      out[ab + j + 2]! += v * wt[wb + j + 2]!
      out[ab + j + 3]! += v * wt[wb + j + 3]!
    }
    for (; j < nOut; j++) out[ab + j]! += v * wt[wb + j]!
  }
}

import { opOf, paramOf } from '../ir/ops/index.ts'
import { fixedRecurrent } from './recurrent.ts'
import { fixedAttention } from './attention.ts'
import { joinInput } from '../ir/layerInput.ts'
import { inputAsValue } from './inputAsValue.ts'
import { fixedTensorLayers } from './tensorForward.ts'
import { weightLimbs } from './weightLimbs.ts'
import { inputScaleOf, type Plan } from './types.ts'
import { expandInput } from '../ir/categorical.ts'
import { NumericsError } from '../errors/base.ts'

/**
 * The bit-exact off-chain twin of the contract: integer accumulation (exact: interval analysis proves no
 * lane overflows), an arithmetic right shift (floor) by the layer's weight scale, then the activation.
 * Returns each dense layer's outputs; the last entry is what the contract returns. A convolutional
 * model's conv/pool stack runs first (fixedTensorLayers).
 */
export function simulateLayers(plan: Plan, input: bigint[]): bigint[][] {
  const scale = plan.scale
  const trace: bigint[][] = []
  // nn.Embedding columns: the index (at the input scale) becomes its one-hot vector; the product with it is the
  // category's weight column times the scale, exactly the integers the contract's gather adds (categoricalYul.ts)
  const S = inputScaleOf(plan)
  const x = expandInput(input, plan.categorical, S, 0n, (v, cat) => {
    if (v % S !== 0n || v < 0n || v / S >= BigInt(cat.count)) throw new NumericsError(`feature ${cat.column} (${v} at scale ${S}) is not a category index of embedding '${cat.name}' (0 to ${cat.count - 1}): the contract reverts BadCategory`)
    return Number(v / S)
  })
  const x0 = plan.attention ? fixedAttention(plan.attention, x, scale) : plan.recurrent ? fixedRecurrent(plan.recurrent, x, scale) : (fixedTensorLayers(plan, x).at(-1) ?? x)
  // a graph model: every value so far, the input at the activation scale (ir/layerInput.ts, inputAsValue.ts)
  // (after a conv stack, a GRU/LSTM or attention, value 0 is already at the activation scale)
  const front = (plan.tensorLayers?.length ?? 0) > 0 || plan.recurrent || plan.attention
  const values = plan.layers.some((l) => l.input) && !front ? [inputAsValue(plan, x0)] : [x0]
  plan.layers.forEach((layer, l) => {
    const c = { scale, slopeBits: plan.slopeBits }
    const x = l === 0 ? x0 : joinInput(layer.input, l, values, (a, b) => a + b, (v, a) => opOf(a).fixed(v, a, paramOf(a, c), c))
    const s = BigInt(layer.wShift)
    let y =
      denseInFloat(layer, x) ??
      denseInLimbs(layer, x) ??
      layer.weights.map((row, j) => {
        let acc = layer.biases[j]!
        for (let i = 0; i < row.length; i++) acc += row[i]! * x[i]!
        return acc >> s
      })
    y = opOf(layer.activation).fixed(y, layer.activation, layer.slopeQ, { scale, slopeBits: plan.slopeBits })
    trace.push(y)
    values.push(y)
  })
  return trace
}

/** A dense layer's weights as doubles (row-major), each row's sum of |w| and the biases, made once per layer. */
type DenseFloat = { w: Float64Array; sumAbs: Float64Array; b: Float64Array; exactBias: boolean }
const denseFloat = new WeakMap<Plan['layers'][number], DenseFloat>()
const EXACT = 2 ** 53

/**
 * The dense layer in float64 when that is exact: every product and partial sum is an integer below 2^53
 * in magnitude (|b| + Σ|w|·max|x| < 2^53, checked per input), so doubles add and multiply them without
 * rounding and the result equals the BigInt sum. About 50× faster; undefined when the bound does not hold
 * (then the BigInt loop runs).
 */
function denseInFloat(layer: Plan['layers'][number], x: bigint[]): bigint[] | undefined {
  let d = denseFloat.get(layer)
  if (!d) {
    const n = layer.weights[0]?.length ?? 0
    const w = new Float64Array(layer.weights.length * n)
    const sumAbs = new Float64Array(layer.weights.length)
    layer.weights.forEach((row, j) => row.forEach((v, i) => ((w[j * n + i] = Number(v)), (sumAbs[j]! += Math.abs(Number(v))))))
    const exactBias = layer.biases.every((v) => Math.abs(Number(v)) < EXACT) && layer.weights.every((row) => row.every((v) => Math.abs(Number(v)) < EXACT))
    d = { w, sumAbs, b: Float64Array.from(layer.biases, Number), exactBias }
    denseFloat.set(layer, d)
  }
  if (!d.exactBias) return undefined
  const n = x.length
  const xf = new Float64Array(n)
  let maxX = 0
  for (let i = 0; i < n; i++) {
    // rounding to a double is monotonic: |x| ≥ 2^53 shows as a double ≥ 2^53
    const v = Math.abs((xf[i] = Number(x[i]!)))
    if (!(v < EXACT)) return undefined
    if (v > maxX) maxX = v
  }
  const out: bigint[] = new Array(d.b.length)
  const s = BigInt(layer.wShift)
  for (let j = 0; j < d.b.length; j++) {
    // a bound on every partial sum of this row (sumAbs is itself rounded: keep a margin below 2^53)
    if (Math.abs(d.b[j]!) + d.sumAbs[j]! * maxX >= EXACT / 2) return undefined
    let acc = d.b[j]!
    const base = j * n
    for (let i = 0; i < n; i++) acc += d.w[base + i]! * xf[i]!
    out[j] = BigInt(acc) >> s
  }
  return out
}

/** Past 2^53 for one double sum (weights at 2^31 while precision is chosen): two exact sums (weightLimbs.ts). */
function denseInLimbs(layer: Plan['layers'][number], x: bigint[]): bigint[] | undefined {
  const n = layer.weights[0]?.length ?? 0
  if (x.length !== n) return undefined
  const limbs = weightLimbs(layer, () => layer.weights.flat(), layer.biases.length, n, x)
  if (!limbs) return undefined
  const xn = x.map(Number)
  const L = BigInt(limbs.L)
  const s = BigInt(layer.wShift)
  return layer.biases.map((b, j) => {
    let hi = 0
    let lo = 0
    for (let i = 0, k = j * n; i < n; i++, k++) {
      hi += limbs.hi[k]! * xn[i]!
      lo += limbs.lo[k]! * xn[i]!
    }
    return (b + (BigInt(hi) << L) + BigInt(lo)) >> s
  })
}

export function simulate(plan: Plan, input: bigint[]): bigint[] {
  const t = simulateLayers(plan, input)
  return t[t.length - 1]!
}

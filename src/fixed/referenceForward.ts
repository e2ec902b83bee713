import type { ModelIR } from '../ir/types.ts'
import { opOf } from '../ir/ops/index.ts'
import { floatRecurrent } from './recurrent.ts'
import { floatAttention } from './attention.ts'
import { joinInput } from '../ir/layerInput.ts'
import { floatTensorLayers } from './tensorForward.ts'
import { categoryOf, expandInput } from '../ir/categorical.ts'
import { DataError } from '../errors/base.ts'

/**
 * The float64 forward pass: what PyTorch computes (up to float32 rounding). Returns every dense layer's
 * outputs (a convolutional model's conv/pool stack runs first: floatTensorLayers).
 */
export function referenceLayers(model: ModelIR, input: number[]): number[][] {
  const trace: number[][] = []
  // nn.Embedding columns read one-hot (ir/categorical.ts): the table is folded into the first layer
  const x0 = expandInput(input, model.categorical, 1, 0, (v, cat) => {
    const k = categoryOf(v, cat)
    if (typeof k === 'string') throw new DataError(`feature ${cat.column}: ${k}`)
    return k
  })
  const values = [model.attention ? floatAttention(model.attention, input) : model.recurrent ? floatRecurrent(model.recurrent, input) : (floatTensorLayers(model, x0).at(-1) ?? x0)]
  model.layers.forEach((layer, l) => {
    // a graph model reads an earlier value, a residual sum or a concatenation (ir/layerInput.ts)
    const x = joinInput(layer.input, l, values, (a, b) => a + b, (v, a) => opOf(a).float(v, a))
    // acc = b + w0·x0 + w1·x1 + …, in that order (as a reduce would: the same doubles)
    const z = new Array<number>(layer.weight.length)
    for (let j = 0; j < z.length; j++) {
      const row = layer.weight[j]!
      let acc = layer.bias[j]!
      for (let i = 0; i < row.length; i++) acc += row[i]! * x[i]!
      z[j] = acc
    }
    const y = opOf(layer.activation).float(z, layer.activation)
    trace.push(y)
    values.push(y)
  })
  return trace
}

const memo = new WeakMap<ModelIR, WeakMap<number[], number[]>>()

/**
 * The float model's outputs for one row. Remembered per model and row array (precision selection asks
 * for the same rows once per candidate width): the result is shared, so callers must not change it.
 */
export function referenceForward(model: ModelIR, input: number[]): number[] {
  let m = memo.get(model)
  if (!m) memo.set(model, (m = new WeakMap()))
  let y = m.get(input)
  if (!y) {
    const t = referenceLayers(model, input)
    m.set(input, (y = t[t.length - 1]!))
  }
  return y
}

import type { ModelIR } from '../ir/types.ts'
import { opOf } from '../ir/ops/index.ts'
import { floatRecurrent } from './recurrent.ts'
import { floatAttention } from './attention.ts'
import { joinInput } from '../ir/layerInput.ts'
import { floatTensorLayers } from './tensorForward.ts'

/**
 * The float64 forward pass: what PyTorch computes (up to float32 rounding). Returns every dense layer's
 * outputs (a convolutional model's conv/pool stack runs first: floatTensorLayers).
 */
export function referenceLayers(model: ModelIR, input: number[]): number[][] {
  const trace: number[][] = []
  const values = [model.attention ? floatAttention(model.attention, input) : model.recurrent ? floatRecurrent(model.recurrent, input) : (floatTensorLayers(model, input).at(-1) ?? input)]
  model.layers.forEach((layer, l) => {
    // a graph model reads an earlier value, a residual sum or a concatenation (ir/layerInput.ts)
    const x = joinInput(layer.input, l, values, (a, b) => a + b)
    const y = opOf(layer.activation).float(
      layer.weight.map((row, j) => row.reduce((acc, w, i) => acc + w * x[i]!, layer.bias[j]!)),
      layer.activation,
    )
    trace.push(y)
    values.push(y)
  })
  return trace
}

export function referenceForward(model: ModelIR, input: number[]): number[] {
  const t = referenceLayers(model, input)
  return t[t.length - 1]!
}

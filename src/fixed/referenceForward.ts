import type { ModelIR } from '../ir/types.ts'
import { floatTensorLayers } from './tensorForward.ts'

/**
 * The float64 forward pass: what PyTorch computes (up to float32 rounding). Returns every dense layer's
 * outputs (a convolutional model's conv/pool stack runs first: floatTensorLayers).
 */
export function referenceLayers(model: ModelIR, input: number[]): number[][] {
  const trace: number[][] = []
  let x = floatTensorLayers(model, input).at(-1) ?? input
  for (const layer of model.layers) {
    let y = layer.weight.map((row, j) => row.reduce((acc, w, i) => acc + w * x[i]!, layer.bias[j]!))
    const a = layer.activation
    if (a.kind === 'relu') y = y.map((v) => (v < 0 ? 0 : v))
    else if (a.kind === 'leaky_relu') y = y.map((v) => (v < 0 ? v * a.slope : v))
    else if (a.kind === 'sigmoid') y = y.map((v) => 1 / (1 + Math.exp(-v)))
    else if (a.kind === 'tanh') y = y.map(Math.tanh)
    else if (a.kind === 'softmax') {
      const m = Math.max(...y)
      const e = y.map((v) => Math.exp(v - m))
      const s = e.reduce((p, q) => p + q, 0)
      y = e.map((v) => v / s)
    }
    trace.push(y)
    x = y
  }
  return trace
}

export function referenceForward(model: ModelIR, input: number[]): number[] {
  const t = referenceLayers(model, input)
  return t[t.length - 1]!
}

import { opOf } from '../ir/ops/index.ts'
import { fixedRecurrent } from './recurrent.ts'
import { fixedTensorLayers } from './tensorForward.ts'
import type { Plan } from './types.ts'

/**
 * The bit-exact off-chain twin of the contract: integer accumulation (exact: interval analysis proves no
 * lane overflows), an arithmetic right shift (floor) by the layer's weight scale, then the activation.
 * Returns each dense layer's outputs; the last entry is what the contract returns. A convolutional
 * model's conv/pool stack runs first (fixedTensorLayers).
 */
export function simulateLayers(plan: Plan, input: bigint[]): bigint[][] {
  const scale = plan.scale
  const trace: bigint[][] = []
  let x = plan.recurrent ? fixedRecurrent(plan.recurrent, input, scale) : (fixedTensorLayers(plan, input).at(-1) ?? input)
  for (const layer of plan.layers) {
    const s = BigInt(layer.wShift)
    let y = layer.weights.map((row, j) => {
      let acc = layer.biases[j]!
      for (let i = 0; i < row.length; i++) acc += row[i]! * x[i]!
      return acc >> s
    })
    y = opOf(layer.activation).fixed(y, layer.activation, layer.slopeQ, { scale, slopeBits: plan.slopeBits })
    trace.push(y)
    x = y
  }
  return trace
}

export function simulate(plan: Plan, input: bigint[]): bigint[] {
  const t = simulateLayers(plan, input)
  return t[t.length - 1]!
}

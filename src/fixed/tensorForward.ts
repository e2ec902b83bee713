import type { ModelIR } from '../ir/types.ts'
import { joinFixed, joinFloat } from '../ir/ops/tensorJoin.ts'
import { isJoin, tensorInputOf } from '../ir/tensorTypes.ts'
import { fixedConv, floatConv } from './conv.ts'
import { fixedPool, floatPool } from './pool.ts'
import { activateFixed, activateFloat } from './tensorActivation.ts'
import type { Plan } from './types.ts'

/**
 * The conv/pool stack in float: every tensor layer's output (flat, C order). Empty for an MLP. A graph's
 * layer reads the value it names (`from`; a join its `values`): value 0 the input, k layer k−1's output.
 */
export function floatTensorLayers(model: ModelIR, input: number[]): number[][] {
  const values: number[][] = [input]
  ;(model.tensorLayers ?? []).forEach((layer, l) => {
    const x = values[tensorInputOf(layer, l)]!
    if (isJoin(layer)) values.push(activateFloat(joinFloat(layer.kind, layer.values.map((v) => values[v]!)), layer.activation))
    else values.push(layer.kind === 'conv' ? floatConv(layer, x) : floatPool(layer, x))
  })
  return values.slice(1)
}

/** The conv/pool stack in fixed point, as the contract computes it. Empty for an MLP. */
export function fixedTensorLayers(plan: Plan, input: bigint[]): bigint[][] {
  const values: bigint[][] = [input]
  ;(plan.tensorLayers ?? []).forEach((layer, l) => {
    const x = values[tensorInputOf(layer, l)]!
    if (isJoin(layer)) values.push(activateFixed(joinFixed(layer.kind, layer.values.map((v) => values[v]!)), layer.activation, layer.slopeQ, plan.slopeBits, plan.scale))
    else values.push(layer.kind === 'conv' ? fixedConv(layer, x, plan.slopeBits, plan.scale) : fixedPool(layer, x, plan.slopeBits, plan.scale))
  })
  return values.slice(1)
}

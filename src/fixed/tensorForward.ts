import type { ModelIR } from '../ir/types.ts'
import { fixedConv, floatConv } from './conv.ts'
import { fixedPool, floatPool } from './pool.ts'
import type { Plan } from './types.ts'

/** The conv/pool stack in float: every tensor layer's output (flat, C order). Empty for an MLP. */
export function floatTensorLayers(model: ModelIR, input: number[]): number[][] {
  const trace: number[][] = []
  let x = input
  for (const layer of model.tensorLayers ?? []) {
    x = layer.kind === 'conv' ? floatConv(layer, x) : floatPool(layer, x)
    trace.push(x)
  }
  return trace
}

/** The conv/pool stack in fixed point, as the contract computes it. Empty for an MLP. */
export function fixedTensorLayers(plan: Plan, input: bigint[]): bigint[][] {
  const trace: bigint[][] = []
  let x = input
  for (const layer of plan.tensorLayers ?? []) {
    x = layer.kind === 'conv' ? fixedConv(layer, x, plan.slopeBits, plan.scale) : fixedPool(layer, x, plan.slopeBits, plan.scale)
    trace.push(x)
  }
  return trace
}

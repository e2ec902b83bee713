import type { Activation } from '../ir/types.ts'
import { leakyReluFixed, reluFixed, sigmoidFixed, tanhFixed } from './activations.ts'

/** The element-wise activation after a conv/pool layer, float (softmax never reaches here). */
export function activateFloat(y: number[], a: Activation): number[] {
  if (a.kind === 'relu') return y.map((v) => (v < 0 ? 0 : v))
  if (a.kind === 'leaky_relu') return y.map((v) => (v < 0 ? v * a.slope : v))
  if (a.kind === 'sigmoid') return y.map((v) => 1 / (1 + Math.exp(-v)))
  if (a.kind === 'tanh') return y.map(Math.tanh)
  return y
}

/** The same in fixed point, exactly as the dense layers' activations (activations.ts). */
export function activateFixed(y: bigint[], a: Activation, slopeQ: bigint, slopeBits: number, scale: bigint): bigint[] {
  if (a.kind === 'relu') return y.map(reluFixed)
  if (a.kind === 'leaky_relu') return y.map((v) => leakyReluFixed(v, slopeQ, slopeBits))
  if (a.kind === 'sigmoid') return y.map((v) => sigmoidFixed(v, scale))
  if (a.kind === 'tanh') return y.map((v) => tanhFixed(v, scale))
  return y
}

import { ModelError } from '../errors/base.ts'
import type { ArchStep, DenseLayer, TensorMap } from './types.ts'

/**
 * nn.PReLU: one slope (num_parameters=1, or all equal) is exactly a LeakyReLU with that slope (folded so).
 * Different slopes per channel stay a `prelu` step, folded by foldPrelu between two Linear layers.
 */
export function resolvePrelu(name: string, tensors: TensorMap, file: string): ArchStep {
  const w = tensors.get(`${name}.weight`)
  if (!w) throw new ModelError(`missing tensor '${name}.weight' for PReLU '${name}'`, { where: file })
  const slopes = Array.from(w.data)
  if (slopes.some((a) => a !== slopes[0])) return { op: 'prelu', name }
  return { op: 'activation', activation: { kind: 'leaky_relu', slope: slopes[0]! }, name }
}

/**
 * A per-channel PReLU between Linear `prev` (y = Wx + b) and the next Linear (weights `next`), folded
 * exactly: prelu(y) = relu(y) − a ⊙ relu(−y), so `prev` becomes [W; −W], [b; −b] with a ReLU, and the next
 * Linear's weights [V, −V·diag(a)]. Twice the outputs in `prev`, no new op on chain.
 */
export function foldPrelu(prev: DenseLayer, a: number[], next: number[][]): number[][] {
  prev.weight = [...prev.weight, ...prev.weight.map((row) => row.map((w) => -w))]
  prev.bias = [...prev.bias, ...prev.bias.map((b) => -b)]
  prev.activation = { kind: 'relu' }
  return next.map((row) => [...row, ...row.map((v, i) => -v * a[i]!)])
}

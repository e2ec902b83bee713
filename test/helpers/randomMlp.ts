// A deterministic random MLP (mulberry32, test/helpers/rng.ts) for the codegen and chain tests: weights
// uniform in ±1/√nIn, biases uniform in ±bias, ReLU between layers and `last` at the end.
import type { Activation, ModelIR } from '../../src/ir/types.ts'
import { rng } from './rng.ts'

export function randomMlp(sizes: number[], seed: number, o: { last?: Exclude<Activation['kind'], 'leaky_relu'>; bias?: number } = {}): ModelIR {
  const r = rng(seed)
  const bias = o.bias ?? 0.1
  return {
    format: 'synthetic',
    inputSize: sizes[0]!,
    layers: sizes.slice(1).map((n, l) => ({
      name: `fc${l + 1}`,
      weight: Array.from({ length: n }, () => Array.from({ length: sizes[l]! }, () => (r() * 2 - 1) / Math.sqrt(sizes[l]!))),
      bias: Array.from({ length: n }, () => r() * (2 * bias) - bias),
      activation: { kind: l === sizes.length - 2 ? (o.last ?? 'identity') : 'relu' } as Activation,
    })),
  }
}

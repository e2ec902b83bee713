import type { DenseLayer, ModelIR } from './types.ts'

/** The same parameters: equal shapes and values. */
export const sameParameters = (a: Pick<DenseLayer, 'weight' | 'bias'>, b: Pick<DenseLayer, 'weight' | 'bias'>): boolean =>
  a.bias.length === b.bias.length && a.bias.every((v, i) => v === b.bias[i]) && a.weight.length === b.weight.length && a.weight.every((r, i) => r.length === b.weight[i]!.length && r.every((v, j) => v === b.weight[i]![j]))

/**
 * The earlier layer whose module layer `l` applies again (`for _ in range(3): x = self.fc(x)` unrolls into
 * three layers named `fc`): the first one with its name and, after every fold, its very parameters (a
 * BatchNorm folded into one application makes that one a layer of its own). Undefined for a first use.
 */
export function sharedWith(layers: DenseLayer[], l: number): number | undefined {
  const k = layers.findIndex((o, i) => i < l && o.name === layers[l]!.name && sameParameters(o, layers[l]!))
  return k < 0 ? undefined : k
}

/**
 * Records on each repeated application of a module (ModelIR dense layers) which earlier layer holds its
 * weights (`shares`): the contract stores that weight tensor once and every use reads it. Sequence and
 * attention models keep their own blob (no dense layer is shared there).
 */
export function markSharedLayers(model: ModelIR): ModelIR {
  if (model.recurrent || model.attention) return model
  model.layers.forEach((layer, l) => {
    const k = sharedWith(model.layers, l)
    if (k !== undefined) layer.shares = k
  })
  return model
}

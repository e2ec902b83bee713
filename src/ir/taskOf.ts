import { cellsOf } from './recurrentTypes.ts'
import type { ModelIR, Task } from './types.ts'
import { sharedWith } from './sharedLayers.ts'
import { headsOf, headTaskOf } from './heads.ts'

/** What the outputs mean: one sigmoid output is a binary class, several outputs are classes, else a value. */
export function taskOf(model: ModelIR, override?: Task): Task {
  if (override) return override
  // a multi-output model: its first head's task (the report's top-level figures are that head's; `heads` has each)
  if (model.heads?.length) return headTaskOf(model, headsOf(model, 0)[0]!)
  const last = model.layers[model.layers.length - 1]!
  if (last.weight.length > 1) return 'multiclass'
  return last.activation.kind === 'sigmoid' ? 'binary' : 'regression'
}

/** PyTorch's parameter count: a module applied several times (`for _ in range(3): x = self.fc(x)`) counts once. */
export function parameterCount(model: ModelIR): number {
  const conv = (model.tensorLayers ?? []).reduce((n, l) => n + (l.kind === 'conv' ? l.weight.length + l.bias.length : 0), 0)
  const r = model.recurrent
  const rec = r ? cellsOf(r).reduce((n, c) => n + c.weightIh.length * (c.features + c.hidden + 2), 0) : 0
  // a multi-output model's `heads` layer is ml2sc's (identity weights laying the heads side by side), not PyTorch's
  const applied = model.heads ? model.layers.slice(0, -1) : model.layers
  const dense = applied.filter((_, i) => sharedWith(applied, i) === undefined)
  const a = model.attention
  // an encoder layer adds its feed-forward Linears and its two LayerNorms' γ and β (always affine in PyTorch's layer)
  const ff = (f: { weight: number[][]; bias: number[] }) => f.weight.length * f.weight[0]!.length + f.bias.length
  const att = a ? 4 * a.embed * (a.embed + 1) + (a.encoder ? ff(a.encoder.ff1) + ff(a.encoder.ff2) + 4 * a.embed : 0) : 0
  return conv + rec + att + dense.reduce((n, l) => n + l.weight.length * (l.weight[0]!.length + 1), 0)
}

export function shapeOf(model: ModelIR): number[] {
  return [model.inputSize, ...model.layers.map((l) => l.weight.length)]
}

import type { TensorMap } from '../ir/types.ts'

/**
 * The hint for a model file whose layer order ml2sc could not read (a custom nn.Module's forward()), fitted
 * to the model: a GRU/LSTM gets the recurrent `model.layers` example, dense layers a linear chain as long as
 * theirs, an attention or convolutional model only model.source (model.layers has neither).
 */
export function orderUnknownHint(tensors: TensorMap): string {
  const source = "add model.source (the nn.Module's .py file) and model.class"
  const keys = [...tensors.keys()]
  const hh = keys.find((k) => /(^|\.)weight_hh_l0$/.test(k))
  if (hh) {
    // weight_hh_l0 is [gates·hidden, hidden]: 3 gates for a GRU, 4 for an LSTM
    const [rows, cols] = tensors.get(hh)!.shape as [number, number]
    const kind = rows === 4 * cols ? 'lstm' : 'gru'
    return `${source}, or model.layers (e.g. [${kind}, linear]: the last time step into the Linear layers)`
  }
  if (keys.some((k) => k.endsWith('in_proj_weight'))) return `${source} (model.layers has no attention)`
  if (keys.some((k) => k.endsWith('weight') && tensors.get(k)!.shape.length > 2)) return `${source} (model.layers has no convolutions)`
  const dense = keys.filter((k) => /(^|\.)weight$/.test(k) && tensors.get(k)!.shape.length === 2).length
  const chain = Array.from({ length: Math.max(dense, 1) }, () => 'linear').join(', relu, ')
  return `${source}, or model.layers if forward() is a plain chain (e.g. [${chain}], with the activations forward() applies)`
}

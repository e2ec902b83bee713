import { buildTensorLayers } from './buildTensorLayers.ts'
import type { ArchStep, TensorMap } from './types.ts'

/**
 * A guess at a convolutional or sequence model's input shape when its file does not record it (for `ml2sc inspect`
 * and `ml2sc init` only; runs take model.inputShape): the channels and rank from the first conv, and a
 * square image (or length) whose conv/pool stack flattens to what the first Linear takes: a power of two
 * when one fits, else the smallest that fits (pooling floors, so a few sizes fit: 28 and 29 for a
 * 28×28 LeNet). With `features` (the test CSV's column count), the size whose tensor has that many
 * elements wins. A GRU/LSTM or self-attention window [T, F] / [T, E]: F or E from the weights, T from `features`.
 * undefined for an MLP, or when no size or too many sizes fit (global pooling).
 */
export function inferInputShape(steps: ArchStep[], tensors: TensorMap, features?: number): number[] | undefined {
  // a sequence model: F from its weight_ih_l0, T from the CSV's column count (T·F columns)
  const rec = steps.find((s) => s.op === 'gru' || s.op === 'lstm')
  if (rec && (rec.op === 'gru' || rec.op === 'lstm')) {
    const F = tensors.get(`${rec.name}.weight_ih_l0`)?.shape[1]
    return F && features && features % F === 0 ? [features / F, F] : undefined
  }
  // self-attention (an encoder layer too): E from its in_proj_weight [3E, E], T from the CSV (T·E columns)
  const mha = steps.find((s) => s.op === 'mha')
  if (mha?.op === 'mha') {
    const E = tensors.get(`${mha.name}.in_proj_weight`)?.shape[1]
    return E && features && features % E === 0 ? [features / E, E] : undefined
  }
  const firstTensor = steps.find((s) => s.op === 'conv' || s.op === 'maxpool' || s.op === 'avgpool' || s.op === 'globalavgpool')
  if (firstTensor?.op !== 'conv') return undefined
  const w = tensors.get(`${firstTensor.name}.weight`)
  const linear = firstLinear(steps)
  const target = linear?.op === 'linear' ? tensors.get(`${linear.name}.weight`)?.shape[1] : undefined
  if (!w || target === undefined) return undefined
  const channels = w.shape[1]! * (firstTensor.groups ?? 1)
  const dims = firstTensor.dims
  const noop = () => {}
  const fits: number[] = []
  // the CSV's column count names the size directly (C·n·n or C·n elements), when it fits the layers
  const fromCsv = features === undefined ? undefined : dims === 2 ? Math.round(Math.sqrt(features / channels)) : Math.round(features / channels)
  if (fromCsv && fromCsv > 0 && (dims === 2 ? channels * fromCsv * fromCsv : channels * fromCsv) === features) {
    const shape = dims === 2 ? [channels, fromCsv, fromCsv] : [channels, fromCsv]
    try {
      if (buildTensorLayers(steps, shape, (k) => tensors.get(k)!, (k) => tensors.get(k), () => {}, 'guess').flatSize === target) return shape
    } catch {}
  }
  for (let n = 1; n <= (dims === 2 ? 512 : 65536); n++) {
    const shape = dims === 2 ? [channels, n, n] : [channels, n]
    try {
      const flat = buildTensorLayers(steps, shape, (k) => tensors.get(k)!, (k) => tensors.get(k), noop, 'guess').flatSize
      if (flat === target) fits.push(n)
      if (flat !== undefined && flat > target * 4 + 64) break // growing past it
    } catch {}
    if (fits.length > 16) return undefined // the size does not matter to the shapes (global pooling)
  }
  const n = fits.find((k) => (k & (k - 1)) === 0) ?? fits[0]
  if (n !== undefined) return dims === 2 ? [channels, n, n] : [channels, n]
  return undefined
}

/** The first Linear the conv stack's flattened output reaches: at the top level, or inside the first branch of several heads. */
function firstLinear(steps: ArchStep[]): ArchStep | undefined {
  for (const s of steps) {
    if (s.op === 'linear') return s
    if (s.op === 'heads' || s.op === 'join') {
      const inner = s.branches.map(firstLinear).find((l) => l !== undefined)
      if (inner) return inner
    }
  }
  return undefined
}

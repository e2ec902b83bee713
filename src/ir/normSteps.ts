import { ModelError } from '../errors/base.ts'
import type { Activation, ArchStep, DenseLayer, Tensor, TensorMap } from './types.ts'

/** A per-feature scale and shift waiting for the Linear after it (BatchNorm, buffers, a norm's γ/β). */
export type PendingAffine = { scale: number[]; shift: number[]; name: string }

/** BatchNorm1d in eval mode as x · scale + shift: scale = γ/√(var + ε), shift = β − mean · scale. */
export function batchNormAffine(step: Extract<ArchStep, { op: 'batchnorm' }>, tensors: TensorMap, take: (key: string, what: string) => Tensor, used: Set<string>): PendingAffine {
  const g = take(`${step.name}.running_mean`, `BatchNorm '${step.name}'`)
  const v = take(`${step.name}.running_var`, `BatchNorm '${step.name}'`)
  const n = g.shape[0]!
  const gamma = tensors.get(`${step.name}.weight`)?.data ?? new Float64Array(n).fill(1)
  const beta = tensors.get(`${step.name}.bias`)?.data ?? new Float64Array(n)
  for (const k of ['weight', 'bias', 'num_batches_tracked']) used.add(`${step.name}.${k}`)
  const eps = step.eps ?? 1e-5
  const scale = Array.from(gamma, (gm, i) => gm / Math.sqrt(v.data[i]! + eps))
  const shift = Array.from(beta, (bt, i) => bt - g.data[i]! * scale[i]!)
  return { scale, shift, name: step.name }
}

/** (x · s1 + t1) · s2 + t2 as one affine. */
export const composeAffine = (a: PendingAffine, b: PendingAffine): PendingAffine => ({
  name: b.name,
  scale: a.scale.map((s1, i) => s1 * b.scale[i]!),
  shift: a.shift.map((t1, i) => t1 * b.scale[i]! + b.shift[i]!),
})

/**
 * A LayerNorm / GroupNorm step over `width` features: the normalisation (no affine) as an activation, and
 * its γ/β (if the state_dict has them) as an affine for the next Linear to fold, else to run on chain.
 */
export function normActivation(
  step: Extract<ArchStep, { op: 'norm' }>,
  width: number,
  tensors: TensorMap,
  used: Set<string>,
  file: string,
): { norm: Activation; affine?: PendingAffine } {
  const label = `${step.what} '${step.name}'`
  if (step.size !== undefined && step.size !== width)
    throw new ModelError(`${label} normalises ${step.size} features but its input has ${width}`, { where: file, hint: 'nn.LayerNorm(n) over the last dim of a (batch, n) tensor' })
  if (!Number.isInteger(step.groups) || step.groups < 1 || width % step.groups !== 0)
    throw new ModelError(`${label}: ${width} channels do not split into ${step.groups} groups`, { where: file })
  const vec = (key: string | undefined) => {
    const t = key ? tensors.get(key) : undefined
    if (!t) return undefined
    used.add(key!)
    if (t.data.length !== width) throw new ModelError(`'${key}' has ${t.data.length} values; ${label} has ${width} features`, { where: file })
    return Array.from(t.data)
  }
  const gamma = vec(step.weight)
  const beta = vec(step.bias)
  const norm: Activation = { kind: 'layer_norm', size: width, groups: step.groups, eps: step.eps }
  if (!gamma && !beta) return { norm }
  return { norm, affine: { name: step.name, scale: gamma ?? new Array<number>(width).fill(1), shift: beta ?? new Array<number>(width).fill(0) } }
}

/** The kinds an activation slot may compose with another (a norm, an affine, a seq): else two activations in a row. */
export const composes = (a: Activation) => a.kind === 'layer_norm' || a.kind === 'affine' || a.kind === 'seq'

/**
 * A materialised value: an identity Linear (weights 1 at the weight scale: exact in fixed point, the SAR
 * gives the input back) reading `input`, so that a normalised or activated sum becomes a value other
 * joins can read (stacked residual blocks, a model that ends in one). Costs width² MACs on chain; with
 * γ/β folded in it is diag(γ), β: exact up to γ's quantisation like any Linear's weights.
 */
export function identityLayer(name: string, width: number, input: DenseLayer['input'], affine?: PendingAffine): DenseLayer {
  // a waiting per-feature affine (a norm's γ/β) folds into it: diag(scale), shift
  const weight = Array.from({ length: width }, (_, j) => Array.from({ length: width }, (_, i) => (i === j ? (affine?.scale[i] ?? 1) : 0)))
  return { name, weight, bias: affine ? [...affine.shift] : new Array<number>(width).fill(0), activation: { kind: 'identity' }, ...(input ? { input } : {}) }
}

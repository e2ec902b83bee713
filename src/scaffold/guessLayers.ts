import type { TensorMap } from '../ir/types.ts'

/** `model.layers` from a state_dict's tensors alone. */
export function guessLayers(tensors: TensorMap, opts: { binary?: boolean } = {}): string[] {
  const bn = new Set<string>()
  for (const key of tensors.keys()) if (key.endsWith('.running_mean')) bn.add(key.slice(0, -'.running_mean'.length))
  const items: { kind: 'linear' | 'batchnorm'; prefix: string }[] = []
  const seen = new Set<string>()
  for (const [key, t] of tensors) {
    const prefix = key.replace(/\.(weight|bias|running_mean|running_var|num_batches_tracked)$/, '')
    if (seen.has(prefix)) continue
    if (bn.has(prefix)) {
      seen.add(prefix)
      items.push({ kind: 'batchnorm', prefix })
    } else if (key.endsWith('.weight') && t.shape.length === 2) {
      seen.add(prefix)
      items.push({ kind: 'linear', prefix })
    }
  }
  const layers: string[] = []
  let linears = 0
  let lastOut = 0
  items.forEach((it, i) => {
    layers.push(it.kind)
    if (it.kind === 'linear') {
      linears++
      lastOut = tensors.get(`${it.prefix}.weight`)!.shape[0]!
    }
    if (linears > 0 && items[i + 1]?.kind === 'linear') layers.push('relu')
  })
  if (lastOut === 1 && opts.binary !== false) layers.push('sigmoid')
  return layers
}

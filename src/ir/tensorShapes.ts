import { ModelError } from '../errors/base.ts'
import type { Geometry, PaddingSpec, TensorLayer } from './tensorTypes.ts'

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1)

/** Elements in a [C, ...spatial] tensor. */
export const sizeOf = (shape: readonly number[]) => prod(shape)

/** `[8, 12, 12]` → `8×12×12`. */
export const shapeText = (shape: readonly number[]) => shape.join('×')

/** PyTorch's output length along one axis (ceil_mode off): floor((n + pads − d·(k−1) − 1) / s) + 1. */
export function outLength(n: number, k: number, s: number, d: number, padBegin: number, padEnd: number): number {
  return Math.floor((n + padBegin + padEnd - d * (k - 1) - 1) / s) + 1
}

/**
 * Explicit begin/end pads for each spatial axis. 'same_upper' (PyTorch's padding='same', ONNX SAME_UPPER)
 * gives out = ceil(n / s) with the odd pad at the end; 'same_lower' puts it at the beginning.
 */
export function resolvePadding(p: PaddingSpec | undefined, spatial: readonly number[], kernel: readonly number[], stride: readonly number[], dilation: readonly number[]): { padBegin: number[]; padEnd: number[] } {
  if (!p) return { padBegin: spatial.map(() => 0), padEnd: spatial.map(() => 0) }
  if (typeof p !== 'string') return { padBegin: [...p.begin], padEnd: [...p.end] }
  const padBegin: number[] = []
  const padEnd: number[] = []
  spatial.forEach((n, a) => {
    const out = Math.ceil(n / stride[a]!)
    const total = Math.max(0, (out - 1) * stride[a]! + dilation[a]! * (kernel[a]! - 1) + 1 - n)
    const small = Math.floor(total / 2)
    padBegin.push(p === 'same_upper' ? small : total - small)
    padEnd.push(p === 'same_upper' ? total - small : small)
  })
  return { padBegin, padEnd }
}

/** Check a window geometry against its input and compute the output shape (channels filled by the caller). */
export function windowGeometry(
  what: string,
  inShape: readonly number[],
  outChannels: number,
  w: { kernel: number[]; stride?: number[]; dilation?: number[]; padding?: PaddingSpec },
): Geometry {
  const spatial = inShape.slice(1)
  const dims = spatial.length
  const fill = (v: number[] | undefined, d: number) => v ?? new Array<number>(dims).fill(d)
  const kernel = w.kernel
  const stride = fill(w.stride, 1)
  const dilation = fill(w.dilation, 1)
  for (const [name, v] of [['kernel', kernel], ['stride', stride], ['dilation', dilation]] as const)
    if (v.length !== dims || v.some((x) => !Number.isInteger(x) || x < 1))
      throw new ModelError(`${what}: ${name} [${v}] does not fit its ${dims}-D input ${shapeText(inShape)}`, { hint: 'a 1-D layer takes [C, L] tensors, a 2-D layer [C, H, W]' })
  const { padBegin, padEnd } = resolvePadding(w.padding, spatial, kernel, stride, dilation)
  if (padBegin.length !== dims || padEnd.length !== dims || [...padBegin, ...padEnd].some((x) => !Number.isInteger(x) || x < 0))
    throw new ModelError(`${what}: padding [${padBegin}] / [${padEnd}] does not fit its ${dims}-D input ${shapeText(inShape)}`)
  const out = spatial.map((n, a) => outLength(n, kernel[a]!, stride[a]!, dilation[a]!, padBegin[a]!, padEnd[a]!))
  if (out.some((n) => n < 1))
    throw new ModelError(`${what}: its ${kernel.join('×')} window does not fit the ${shapeText(inShape)} input`, { hint: 'check model.inputShape' })
  return { inShape: [...inShape], outShape: [outChannels, ...out], kernel, stride, dilation, padBegin, padEnd }
}

/** Multiply-accumulates of one tensor layer (pooling counts its window reads as additions: 0 MACs). */
export function macsOf(layer: TensorLayer): number {
  if (layer.kind !== 'conv') return 0
  const inPerGroup = layer.inShape[0]! / layer.groups
  return sizeOf(layer.outShape) * inPerGroup * prod(layer.kernel)
}

/** Window reads of a pooling layer (its output size times the window). */
export const windowReadsOf = (layer: TensorLayer) => sizeOf(layer.outShape) * prod(layer.kernel)

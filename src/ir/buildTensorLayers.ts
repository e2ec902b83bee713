import { ModelError } from '../errors/base.ts'
import { opOf } from './ops/index.ts'
import type { ArchStep, Tensor } from './types.ts'
import type { ConvLayer, JoinLayer, PoolLayer, TensorLayer, TensorStep } from './tensorTypes.ts'
import { joinShape } from './ops/tensorJoin.ts'
import { allWindowTaps, gridOf } from './window.ts'
import { shapeText, sizeOf, windowGeometry } from './tensorShapes.ts'
import { adaptiveSpans, ceilSpans, type Span } from './poolSpans.ts'

const isTensorStep = (s: ArchStep): s is TensorStep => s.op === 'conv' || s.op === 'maxpool' || s.op === 'avgpool' || s.op === 'globalavgpool' || s.op === 'adaptivepool'
/** A residual add or torch.cat whose branches hold conv/pool steps: part of the convolutional front. */
const isTensorJoin = (s: ArchStep): boolean => s.op === 'join' && s.branches.some((b) => b.some((x) => isTensorStep(x) || isTensorJoin(x)))

type Take = (key: string, what: string) => Tensor
type Lookup = (key: string) => Tensor | undefined

/**
 * The convolutional front of a model: the steps up to the flatten (or the first Linear) become tensor
 * layers on [C, ...spatial] tensors, BatchNorm after a conv is folded into it, activations attach to the
 * layer before them. Returns the layers, the steps left for the dense part, and the flattened size.
 * A model without conv/pool steps comes back unchanged (its flatten is then a no-op).
 */
export function buildTensorLayers(steps: ArchStep[], inputShape: number[] | undefined, take: Take, lookup: Lookup, markUsed: (k: string) => void, file: string): { tensorLayers: TensorLayer[]; rest: ArchStep[]; flatSize?: number } {
  const firstDense = steps.findIndex((s) => s.op === 'linear' || s.op === 'flatten')
  const front = firstDense < 0 ? steps : steps.slice(0, firstDense)
  if (!front.some((s) => isTensorStep(s) || isTensorJoin(s))) {
    const late = steps.find(isTensorStep)
    if (late) throw new ModelError(`${describeStep(late)} comes after a Linear layer or a flatten`, { where: file, hint: 'ml2sc handles convolution/pooling layers first, then a flatten, then Linear layers' })
    return { tensorLayers: [], rest: steps.filter((s) => s.op !== 'flatten') }
  }
  if (!inputShape)
    throw new ModelError('the model has convolution/pooling layers but its input shape is not known', { where: file, hint: 'set model.inputShape: [C, H, W] (2-D) or [C, L] (1-D); for `ml2sc inspect`, --input-shape C,H,W' })
  if (inputShape.length < 2 || inputShape.length > 3 || inputShape.some((n) => !Number.isInteger(n) || n < 1))
    throw new ModelError(`input shape [${inputShape}] is not [C, H, W] or [C, L]`, { where: file })

  const layers: TensorLayer[] = []
  /** shapes[v]: value v's shape (0 the input, k the output of layers[k−1]); `cur` the value so far. */
  const shapes: number[][] = [[...inputShape]]
  let cur = 0
  /** Layers from here on are the branch being visited: a BatchNorm or an activation attaches only to them. */
  let branchStart = 0
  let joins = 0
  const push = (layer: TensorLayer) => {
    if (layer.kind !== 'add' && layer.kind !== 'concat' && cur !== layers.length) (layer as ConvLayer | PoolLayer).from = cur
    layers.push(layer)
    shapes.push(layer.outShape)
    cur = layers.length
  }
  const visit = (step: ArchStep): void => {
    const at = (what: string) => `${file}: ${what}`
    if (step.op === 'skip') return
    if (step.op === 'conv') return push(buildConv(step, shapes[cur]!, take, lookup, markUsed, at(`Conv '${step.name}'`)))
    if (step.op === 'maxpool' || step.op === 'avgpool' || step.op === 'globalavgpool' || step.op === 'adaptivepool') return push(buildPool(step, shapes[cur]!, at(describeStep(step))))
    if (step.op === 'join') return push(buildJoin(step, at))
    // a BatchNorm or an activation belongs to the layer that made the value, when that layer is this branch's own
    const last = cur > branchStart && cur === layers.length ? layers[cur - 1] : undefined
    const shared = `a value another branch reads too (${cur === 0 ? 'the input' : `'${layers[cur - 1]!.name}'`})`
    if (step.op === 'batchnorm') {
      if (!last || last.kind !== 'conv' || last.activation.kind !== 'identity')
        throw new ModelError(`BatchNorm '${step.name}' cannot be folded: it does not follow a convolution directly${cur > 0 && !last ? `; it reads ${shared}` : ''}`, { where: file, hint: 'put BatchNorm right after a Conv (before its activation)' })
      foldBatchNorm(last, step.name, step.eps ?? 1e-5, take, lookup, markUsed, file)
      return
    }
    if (step.op === 'activation') {
      if (step.activation.kind === 'identity') return
      if (!last) throw new ModelError(cur === 0 ? `activation ${step.activation.kind} comes before any layer` : `activation ${step.activation.kind} on ${shared} is not supported`, { where: file, hint: cur === 0 ? undefined : 'apply the activation before the value is shared (x = F.relu(self.conv1(x)); … + x)' })
      if (opOf(step.activation).shape === 'vector') throw new ModelError(`${step.activation.kind} after '${last.name}': ${step.activation.kind} is only supported on the last Linear layer`, { where: file })
      if (last.activation.kind !== 'identity')
        throw new ModelError(`two activations in a row after '${last.name}' (${last.activation.kind}, then ${step.activation.kind})`, { where: file })
      last.activation = step.activation
      return
    }
    throw new ModelError(`unexpected step ${step.op} among the convolution layers`, { where: file, hint: step.op === 'linear' || step.op === 'flatten' ? 'a residual add or torch.cat in a convolutional model joins conv/pool tensors, before the flatten' : undefined })
  }
  /** A residual add or channel concat: each branch from the value so far, then the join of their ends (ops/tensorJoin.ts). */
  const buildJoin = (step: Extract<ArchStep, { op: 'join' }>, at: (what: string) => string): JoinLayer => {
    const from = cur
    const outer = branchStart
    const ends = step.branches.map((branch) => {
      cur = from
      branchStart = layers.length
      branch.forEach(visit)
      return cur
    })
    branchStart = outer
    // numbered in the order the joins are made (a join inside a branch first)
    const name = `${step.kind === 'add' ? 'add' : 'cat'}${++joins}`
    const what = at(`${step.kind === 'add' ? 'residual add' : 'torch.cat'} '${name}'${step.name ? ` (${step.name.replace(/\s+/g, ' ')})` : ''}`)
    if (step.kind === 'concat' && step.dim === -1)
      throw new ModelError(`${what}: torch.cat along dim=-1 of ${ends.map((v) => shapeText(shapes[v]!)).join(' and ')} tensors joins them along their last spatial axis`, { hint: 'ml2sc concatenates conv tensors along the channels: torch.cat([a, b], dim=1)' })
    const shape = joinShape(step.kind, ends.map((v) => shapes[v]!), what)
    const ones = shape.slice(1).map(() => 1)
    const zeros = shape.slice(1).map(() => 0)
    return { kind: step.kind, name, values: ends, inShape: shape, outShape: [...shape], kernel: ones, stride: ones, dilation: ones, padBegin: zeros, padEnd: [...zeros], activation: { kind: 'identity' } }
  }
  front.forEach(visit)
  const shape = shapes[cur]!
  let rest = firstDense < 0 ? [] : steps.slice(firstDense).filter((s) => s.op !== 'flatten')
  // an activation between the flatten and the first Linear (conv → flatten → relu → linear) is element-wise:
  // it belongs to the last tensor layer
  while (rest[0]?.op === 'activation' || rest[0]?.op === 'skip') {
    const step = rest[0]
    const last = layers[layers.length - 1]!
    if (step.op === 'activation' && step.activation.kind !== 'identity') {
      if (opOf(step.activation).shape === 'vector') break
      if (last.activation.kind !== 'identity') throw new ModelError(`two activations in a row after '${last.name}' (${last.activation.kind}, then ${step.activation.kind})`, { where: file })
      last.activation = step.activation
    }
    rest = rest.slice(1)
  }
  const late = rest.find(isTensorStep)
  if (late) throw new ModelError(`${describeStep(late)} comes after a Linear layer or a flatten`, { where: file, hint: 'ml2sc handles convolution/pooling layers first, then a flatten, then Linear layers' })
  return { tensorLayers: layers, rest, flatSize: sizeOf(shape) }
}

function describeStep(s: TensorStep): string {
  if (s.op === 'conv') return `Conv${s.dims}d '${s.name}'`
  if (s.op === 'globalavgpool') return `global average pooling${s.name ? ` '${s.name}'` : ''}`
  if (s.op === 'adaptivepool') return `Adaptive${s.kind === 'maxpool' ? 'Max' : 'Avg'}Pool${s.dims}d${s.name ? ` '${s.name}'` : ''}`
  return `${s.op === 'maxpool' ? 'MaxPool' : 'AvgPool'}${s.dims}d${s.name ? ` '${s.name}'` : ''}`
}

function buildConv(step: Extract<TensorStep, { op: 'conv' }>, shape: number[], take: Take, lookup: Lookup, markUsed: (k: string) => void, where: string): ConvLayer {
  const w = take(`${step.name}.weight`, `Conv '${step.name}'`)
  const dims = shape.length - 1
  if (w.shape.length !== step.dims + 2 || step.dims !== dims)
    throw new ModelError(`'${step.name}.weight' has shape [${w.shape}]: a Conv${step.dims}d cannot take the ${shapeText(shape)} input`, { where, hint: 'check model.inputShape ([C, H, W] for Conv2d, [C, L] for Conv1d)' })
  const [outC, inPerGroup, ...kernel] = w.shape as [number, number, ...number[]]
  const groups = step.groups ?? 1
  if (inPerGroup * groups !== shape[0] || outC % groups !== 0)
    throw new ModelError(`takes ${inPerGroup * groups} input channels (groups=${groups}) but its input is ${shapeText(shape)}`, { where, hint: 'check model.inputShape and the layer order' })
  const b = lookup(`${step.name}.bias`)
  if (b) markUsed(`${step.name}.bias`)
  if (b && (b.shape.length !== 1 || b.shape[0] !== outC)) throw new ModelError(`'${step.name}.bias' has shape [${b.shape}], expected [${outC}]`, { where })
  const geo = windowGeometry(where, shape, outC, { kernel, stride: step.stride, dilation: step.dilation, padding: step.padding })
  return { kind: 'conv', name: step.name, ...geo, weight: Array.from(w.data), bias: b ? Array.from(b.data) : new Array<number>(outC).fill(0), groups, activation: { kind: 'identity' } }
}

function buildPool(step: Exclude<TensorStep, { op: 'conv' }>, shape: number[], where: string): PoolLayer {
  const name = step.name ?? step.op
  if (step.op === 'globalavgpool') {
    const geo = windowGeometry(where, shape, shape[0]!, { kernel: shape.slice(1) })
    return { kind: 'avgpool', name, ...geo, countIncludePad: true, global: true, activation: { kind: 'identity' } }
  }
  // ONNX GlobalMaxPool: an adaptive max pool to 1 on every axis
  if (step.op === 'adaptivepool' && step.dims === 0) return adaptivePool({ ...step, dims: shape.length - 1, output: shape.slice(1).map(() => 1) }, shape, name, where)
  if (step.dims !== shape.length - 1) throw new ModelError(`a ${step.dims}-D pool cannot take the ${shapeText(shape)} input`, { where, hint: 'check model.inputShape' })
  if (step.op === 'adaptivepool') return adaptivePool(step, shape, name, where)
  if (step.op === 'avgpool' && step.dilation?.some((d) => d !== 1)) throw new ModelError('dilated average pooling is not supported', { where })
  const geo = windowGeometry(where, shape, shape[0]!, { kernel: step.kernel, stride: step.stride ?? step.kernel, dilation: step.dilation, padding: step.padding })
  if (geo.padBegin.some((p, a) => p > Math.floor(geo.kernel[a]! / 2)) || geo.padEnd.some((p, a) => p > Math.floor(geo.kernel[a]! / 2)))
    throw new ModelError(`padding [${geo.padBegin}] is more than half the ${geo.kernel.join('×')} window`, { where, hint: 'PyTorch refuses this too' })
  if (allWindowTaps(gridOf(geo)).some((w) => w.offsets.length === 0))
    throw new ModelError(`a ${geo.kernel.join('×')} window (dilation ${geo.dilation.join('×')}) falls entirely in the padding`, { where, hint: 'use less padding' })
  // without padding, counting it or not is the same: one canonical form (PyTorch's default)
  const padded = [...geo.padBegin, ...geo.padEnd].some((p) => p > 0)
  const countIncludePad = padded ? (step.countIncludePad ?? true) : true
  if (step.ceilMode) {
    // ceil_mode=True: the last window may hang over the end, clipped (poolSpans.ts); a no-op when the lengths agree
    const spans = shape.slice(1).map((n, a) => ceilSpans(n, geo.kernel[a]!, geo.stride[a]!, geo.padBegin[a]!, geo.padEnd[a]!, countIncludePad))
    if (spans.some((sp) => sp) && geo.dilation.some((d) => d !== 1)) throw new ModelError('a dilated pool with ceil_mode=True is not supported', { where })
    if (spans.some((sp) => sp)) {
      const full = spans.map((sp, a) => sp ?? ceilSpans(shape[a + 1]!, geo.kernel[a]!, geo.stride[a]!, geo.padBegin[a]!, geo.padEnd[a]!, countIncludePad) ?? floorSpans(shape[a + 1]!, geo, a, countIncludePad))
      return spanPool(step.op, name, shape, full, countIncludePad)
    }
  }
  return { kind: step.op, name, ...geo, countIncludePad, activation: { kind: 'identity' } }
}

/** The windows of a plain (floor-mode) pool along axis a, as spans. */
function floorSpans(n: number, geo: { kernel: number[]; stride: number[]; padBegin: number[]; padEnd: number[] }, a: number, countIncludePad: boolean): Span[] {
  const k = geo.kernel[a]!
  const s = geo.stride[a]!
  const pb = geo.padBegin[a]!
  const pe = geo.padEnd[a]!
  const out = Math.floor((n + pb + pe - k) / s) + 1
  return Array.from({ length: out }, (_, o) => {
    const st = o * s - pb
    const bPad = Math.min(st + k, n + pe)
    const start = Math.max(st, 0)
    const end = Math.min(bPad, n)
    return { start, end, div: countIncludePad ? bPad - st : end - start }
  })
}

/** A pool over explicit windows: kernel holds the largest window (for gas estimates), no padding. */
function spanPool(kind: 'maxpool' | 'avgpool', name: string, shape: number[], spans: Span[][], countIncludePad: boolean): PoolLayer {
  const kernel = spans.map((sp) => Math.max(...sp.map((x) => x.end - x.start)))
  const zeros = spans.map(() => 0)
  return { kind, name, inShape: [...shape], outShape: [shape[0]!, ...spans.map((sp) => sp.length)], kernel, stride: spans.map(() => 1), dilation: spans.map(() => 1), padBegin: zeros, padEnd: zeros, countIncludePad, spans, activation: { kind: 'identity' } }
}

/** AdaptiveAvgPool / AdaptiveMaxPool: one kernel at one stride when the size divides, else explicit windows. */
function adaptivePool(step: Extract<TensorStep, { op: 'adaptivepool' }>, shape: number[], name: string, where: string): PoolLayer {
  const spatial = shape.slice(1)
  if (step.output.length !== spatial.length || step.output.some((o) => o !== null && (!Number.isInteger(o) || o < 1)))
    throw new ModelError(`output_size [${step.output}] does not fit the ${shapeText(shape)} input`, { where, hint: 'a 1-D pool takes one size, a 2-D pool one or two' })
  const out = step.output.map((o, a) => o ?? spatial[a]!)
  if (out.every((o, a) => spatial[a]! % o === 0)) {
    const kernel = spatial.map((n, a) => n / out[a]!)
    const geo = windowGeometry(where, shape, shape[0]!, { kernel, stride: kernel })
    return { kind: step.kind, name, ...geo, countIncludePad: true, ...(out.every((o) => o === 1) && step.kind === 'avgpool' ? { global: true } : {}), activation: { kind: 'identity' } }
  }
  return spanPool(step.kind, name, shape, spatial.map((n, a) => adaptiveSpans(n, out[a]!)), true)
}

/** conv then BN: y = s·(W∗x + b) + t, per output channel. */
function foldBatchNorm(conv: ConvLayer, name: string, eps: number, take: Take, lookup: Lookup, markUsed: (k: string) => void, file: string): void {
  const mean = take(`${name}.running_mean`, `BatchNorm '${name}'`).data
  const v = take(`${name}.running_var`, `BatchNorm '${name}'`).data
  const n = mean.length
  const outC = conv.outShape[0]!
  if (n !== outC) throw new ModelError(`BatchNorm '${name}' has ${n} channels but Conv '${conv.name}' gives ${outC}`, { where: file })
  const gamma = lookup(`${name}.weight`)?.data ?? new Float64Array(n).fill(1)
  const beta = lookup(`${name}.bias`)?.data ?? new Float64Array(n)
  for (const k of ['weight', 'bias', 'num_batches_tracked']) markUsed(`${name}.${k}`)
  const per = conv.weight.length / outC
  for (let o = 0; o < outC; o++) {
    const s = gamma[o]! / Math.sqrt(v[o]! + eps)
    for (let i = o * per; i < (o + 1) * per; i++) conv.weight[i]! *= s
    conv.bias[o] = conv.bias[o]! * s + (beta[o]! - mean[o]! * s)
  }
}

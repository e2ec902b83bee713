import type { PaddingSpec } from '../../ir/tensorTypes.ts'
import type { OnnxContext, OnnxNode } from './context.ts'
import { num, type OAttr } from './proto.ts'

export const CONV_OPS = ['Conv', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'Pad (zeros, before Conv/AveragePool)']

const ints = (a: Map<string, OAttr>, key: string): number[] | undefined => {
  const v = a.get(key)?.ints
  return v && v.length ? v.map(num) : undefined
}

/**
 * ONNX padding attributes: auto_pad, else pads = [x1_begin, x2_begin, …, x1_end, x2_end, …], plus the
 * zeros of a Pad node right before (torch.onnx exports avg_pool2d as Pad + AveragePool).
 */
function paddingOf(ctx: OnnxContext, { n, a }: OnnxNode, dims: number): PaddingSpec | undefined {
  const auto = a.get('auto_pad')?.s ? new TextDecoder().decode(a.get('auto_pad')!.s) : 'NOTSET'
  const extra = ctx.pendingPad
  ctx.pendingPad = undefined
  if (extra && auto !== 'NOTSET' && auto !== 'VALID') ctx.unsupportedNode(n, `auto_pad ${auto} after a Pad node`)
  if (auto === 'SAME_UPPER') return 'same_upper'
  if (auto === 'SAME_LOWER') return 'same_lower'
  if (auto !== 'NOTSET' && auto !== 'VALID') ctx.unsupportedNode(n, `auto_pad ${auto}`)
  const pads = (auto === 'VALID' ? undefined : ints(a, 'pads')) ?? new Array<number>(2 * dims).fill(0)
  if (pads.length !== 2 * dims) ctx.unsupportedNode(n, `pads [${pads}] for a ${dims}-D window`)
  const begin = pads.slice(0, dims).map((p, i) => p + (extra?.begin[i] ?? 0))
  const end = pads.slice(dims).map((p, i) => p + (extra?.end[i] ?? 0))
  return [...begin, ...end].some((p) => p !== 0) ? { begin, end } : undefined
}

/** A Pad node: zeros only (mode constant, value 0), on the spatial axes only; all-zero pads are a no-op. */
function mapPad(ctx: OnnxContext, { n, ins, a }: OnnxNode): void {
  const mode = a.get('mode')?.s ? new TextDecoder().decode(a.get('mode')!.s) : 'constant'
  if (mode !== 'constant') ctx.unsupportedNode(n, `pad mode '${mode}'`)
  if (ins[2] && (!ctx.consts.has(ins[2]) || ctx.constTensor(ins[2]).data.some((v) => v !== 0))) ctx.unsupportedNode(n, 'only zero padding is supported')
  const pads = ins[1] && ctx.consts.has(ins[1]) ? Array.from(ctx.constTensor(ins[1]).data) : ints(a, 'pads')
  if (!pads || pads.length % 2 || pads.length < 6) return ctx.unsupportedNode(n, 'its pads are not a constant for a [N, C, …] tensor')
  const rank = pads.length / 2
  if (pads[0] || pads[1] || pads[rank] || pads[rank + 1]) ctx.unsupportedNode(n, 'it pads the batch or channel axis')
  if (pads.every((p) => p === 0)) return
  if (pads.some((p) => p < 0)) ctx.unsupportedNode(n, 'negative pads (cropping)')
  ctx.pendingPad = { begin: pads.slice(2, rank), end: pads.slice(rank + 2), node: n.name || 'Pad' }
}

/** Map Conv / MaxPool / AveragePool / GlobalAveragePool to conv and pool steps (weights as `<name>.weight`). */
export function mapConvOp(ctx: OnnxContext, node: OnnxNode): void {
  const { n, op, ins, x, a } = node
  const { consts, constTensor, tensors, steps, unsupportedNode } = ctx
  if (op === 'Pad') return mapPad(ctx, node)
  if (op === 'GlobalAveragePool') {
    steps.push({ op: 'globalavgpool', name: ctx.stepName(n, undefined) })
    return
  }
  if (op === 'GlobalMaxPool') {
    steps.push({ op: 'adaptivepool', kind: 'maxpool', dims: 0, output: [], name: ctx.stepName(n, undefined) })
    return
  }
  if (op === 'Conv') {
    if (ins[0] !== x || !consts.has(ins[1]!)) unsupportedNode(n, 'its weight must be an initializer')
    const W = constTensor(ins[1]!)
    const dims = W.shape.length - 2
    if (dims !== 1 && dims !== 2) unsupportedNode(n, `a ${dims}-D convolution (only Conv1d and Conv2d are supported)`)
    const name = ctx.stepName(n, consts.get(ins[1]!)?.name ?? ins[1])
    tensors.set(`${name}.weight`, W)
    if (ins[2]) {
      if (!consts.has(ins[2])) unsupportedNode(n, 'its bias must be an initializer')
      tensors.set(`${name}.bias`, constTensor(ins[2]))
    }
    const kernel = ints(a, 'kernel_shape')
    if (kernel && kernel.join() !== W.shape.slice(2).join()) unsupportedNode(n, `kernel_shape [${kernel}] differs from its weight's [${W.shape.slice(2)}]`)
    steps.push({ op: 'conv', name, dims, stride: ints(a, 'strides'), dilation: ints(a, 'dilations'), padding: paddingOf(ctx, node, dims), groups: a.has('group') ? num(a.get('group')!.i) : 1 })
    return
  }
  // MaxPool, AveragePool
  const kernel = ints(a, 'kernel_shape')
  if (!kernel) return unsupportedNode(n, 'it has no kernel_shape')
  const dims = kernel.length
  if (dims !== 1 && dims !== 2) unsupportedNode(n, `a ${dims}-D pool (only 1-D and 2-D are supported)`)
  const ceilMode = num(a.get('ceil_mode')?.i) !== 0
  if (op === 'MaxPool' && num(a.get('storage_order')?.i) !== 0) unsupportedNode(n, 'storage_order=1')
  const padded = ctx.pendingPad !== undefined
  if (padded && ints(a, 'pads')?.some((p) => p !== 0) && num(a.get('count_include_pad')?.i) === 0) unsupportedNode(n, 'a Pad node and its own pads with count_include_pad=0')
  steps.push({
    op: op === 'MaxPool' ? 'maxpool' : 'avgpool',
    name: ctx.stepName(n, undefined),
    dims,
    kernel,
    stride: ints(a, 'strides') ?? new Array<number>(dims).fill(1), // ONNX's default stride is 1, not the kernel
    dilation: ints(a, 'dilations'),
    padding: paddingOf(ctx, node, dims),
    // zeros from a Pad node count in the average like any value
    ...(op === 'AveragePool' ? { countIncludePad: padded || num(a.get('count_include_pad')?.i) !== 0 } : {}),
    // ceil_mode=1: the last window may hang over the end, clipped as PyTorch does (ir/poolSpans.ts)
    ...(ceilMode ? { ceilMode } : {}),
  })
}

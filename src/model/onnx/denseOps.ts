import { ModelError } from '../../errors/base.ts'
import type { Tensor } from '../../ir/types.ts'
import type { OnnxContext, OnnxNode } from './context.ts'
import { DTYPES, num, type ONode } from './proto.ts'

export const SUPPORTED_ONNX_OPS = [
  'Gemm',
  'MatMul+Add',
  'Relu',
  'LeakyRelu',
  'Sigmoid',
  'Tanh',
  'Softmax',
  'Identity',
  'Flatten',
  'Dropout',
  'BatchNormalization',
  'Reshape (as a flatten)',
  'Cast',
]

/** Map one dense-side ONNX node (Linear, activation, BatchNorm, flatten, no-op) to architecture steps. */
export function mapDenseOp(ctx: OnnxContext, { n, op, ins, x, a }: OnnxNode, out: string): void {
  const { consts, constTensor, tensors, steps, unsupportedNode, file } = ctx
  switch (op) {
    case 'Gemm': {
      if (num(a.get('transA')?.i) !== 0) unsupportedNode(n, 'transA=1')
      if (ins[0] !== x || !consts.has(ins[1]!)) unsupportedNode(n, 'its weight B must be an initializer')
      const alpha = a.get('alpha')?.f ?? 1
      const beta = a.get('beta')?.f ?? 1
      const transB = num(a.get('transB')?.i) !== 0
      // the same initializers again (a module applied in a loop): the same step name, so the IR shares its weights
      const same = `${ins[1]}|${ins[2] ?? ''}|${alpha}|${beta}|${transB}`
      const again = (ctx.gemms ??= new Map()).get(same)
      if (again) return void steps.push({ op: 'linear', name: again })
      const B = constTensor(ins[1]!)
      if (B.shape.length !== 2) unsupportedNode(n, `weight has shape [${B.shape}]`)
      const [r, c] = B.shape as [number, number]
      const [outN, inN] = transB ? [r, c] : [c, r]
      const W = new Float64Array(outN * inN)
      for (let o = 0; o < outN; o++) for (let i = 0; i < inN; i++) W[o * inN + i] = alpha * (transB ? B.data[o * c + i]! : B.data[i * c + o]!)
      const name = ctx.stepName(n, consts.get(ins[1]!)?.name ?? ins[1])
      tensors.set(`${name}.weight`, { shape: [outN, inN], data: W })
      if (ins[2]) {
        if (!consts.has(ins[2])) unsupportedNode(n, 'its bias C must be an initializer')
        tensors.set(`${name}.bias`, { shape: [outN], data: broadcastBias(constTensor(ins[2]), outN, beta, n, file) })
      }
      steps.push({ op: 'linear', name })
      ctx.gemms.set(same, name)
      return
    }
    case 'MatMul': {
      if (ins[0] !== x || !consts.has(ins[1]!)) unsupportedNode(n, 'its second input must be a weight initializer')
      const B = constTensor(ins[1]!)
      if (B.shape.length !== 2) unsupportedNode(n, `weight has shape [${B.shape}]`)
      const [inN, outN] = B.shape as [number, number]
      const W = new Float64Array(outN * inN)
      for (let o = 0; o < outN; o++) for (let i = 0; i < inN; i++) W[o * inN + i] = B.data[i * outN + o]!
      const name = ctx.stepName(n, consts.get(ins[1]!)?.name ?? ins[1])
      tensors.set(`${name}.weight`, { shape: [outN, inN], data: W })
      steps.push({ op: 'linear', name })
      ctx.pendingMatMul = { name, out: outN, output: out }
      return
    }
    case 'Add': {
      const mm = ctx.pendingMatMul
      if (!mm) return unsupportedNode(n, 'Add is only supported as the bias of a MatMul')
      const c = ins.find((i) => i !== x)
      if (!c || !consts.has(c)) return unsupportedNode(n, 'its bias must be an initializer')
      tensors.set(`${mm.name}.bias`, { shape: [mm.out], data: broadcastBias(constTensor(c), mm.out, 1, n, file) })
      ctx.pendingMatMul = undefined
      return
    }
    case 'Relu':
      return ctx.activation({ kind: 'relu' }, n)
    case 'LeakyRelu':
      return ctx.activation({ kind: 'leaky_relu', slope: a.get('alpha')?.f ?? 0.01 }, n)
    case 'Sigmoid':
      return ctx.activation({ kind: 'sigmoid' }, n)
    case 'Tanh':
      return ctx.activation({ kind: 'tanh' }, n)
    case 'Softmax': {
      const axis = a.has('axis') ? num(a.get('axis')!.i) : -1
      if (axis !== -1 && axis !== 1) unsupportedNode(n, `softmax over axis ${axis}`)
      return ctx.activation({ kind: 'softmax' }, n)
    }
    case 'Identity':
    case 'Dropout':
      steps.push({ op: 'skip', name: n.name || op })
      return
    case 'Flatten':
    case 'Reshape': {
      // torch.flatten(x, 1), nn.Flatten and x.view(x.size(0), -1): the shape comes from Shape/Gather/Concat
      const shape = ins[1]
      if (op === 'Reshape' && !shape) unsupportedNode(n, 'it has no shape input')
      if (op === 'Reshape' && shape && consts.has(shape)) {
        const s = constTensor(shape).data
        if (s.length !== 2) unsupportedNode(n, `reshape to [${Array.from(s)}]: only a flatten to [batch, features] is supported`)
      }
      if (op === 'Flatten' && a.has('axis') && num(a.get('axis')!.i) !== 1) unsupportedNode(n, `flatten from axis ${num(a.get('axis')!.i)}`)
      steps.push({ op: 'flatten', name: n.name || op })
      return
    }
    case 'Cast': {
      const to = num(a.get('to')?.i)
      if (to !== 1 && to !== 11 && to !== 10) unsupportedNode(n, `cast to ${DTYPES[to] ?? to}`)
      steps.push({ op: 'skip', name: n.name || op })
      return
    }
    case 'BatchNormalization': {
      const [, sc, bi, mean, vr] = ins
      if (![sc, bi, mean, vr].every((k) => k && consts.has(k))) unsupportedNode(n, 'its scale, bias, mean and variance must be initializers')
      const scaleName = consts.get(sc!)?.name ?? sc
      const name = ctx.stepName(n, scaleName)
      tensors.set(`${name}.weight`, constTensor(sc!))
      tensors.set(`${name}.bias`, constTensor(bi!))
      tensors.set(`${name}.running_mean`, constTensor(mean!))
      tensors.set(`${name}.running_var`, constTensor(vr!))
      steps.push({ op: 'batchnorm', name, eps: a.get('epsilon')?.f ?? 1e-5 })
      return
    }
    default:
      unsupportedNode(n)
  }
}

function broadcastBias(t: Tensor, out: number, beta: number, n: ONode, file: string): Float64Array {
  const size = t.data.length
  if (size !== out && size !== 1)
    throw new ModelError(`bias of ${n.op_type} node '${n.name ?? ''}' has shape [${t.shape}], expected [${out}]`, { where: file })
  return Float64Array.from({ length: out }, (_, j) => beta * t.data[size === 1 ? 0 : j]!)
}

import type { OnnxContext, OnnxNode } from './context.ts'
import { num } from './proto.ts'

export const ACTIVATION_ONNX_OPS = ['Clip', 'HardSigmoid', 'HardSwish', 'Elu', 'Softplus', 'Mish', 'Gelu', 'PRelu', 'LogSoftmax']

/**
 * The single-node ONNX forms of PyTorch's activations beyond ReLU/Sigmoid/Tanh/Softmax: Clip (ReLU6,
 * Hardtanh), HardSigmoid, HardSwish, Elu, Softplus, Mish and Gelu (newer opsets), PRelu, LogSoftmax.
 * Returns false for other ops. Multi-node patterns (GELU's Erf form, SiLU's Sigmoid·x) are in patterns.ts.
 */
export function mapActivationOp(ctx: OnnxContext, { n, op, ins, a }: OnnxNode): boolean {
  const scalar = (name: string | undefined): number | undefined => {
    if (!name) return undefined
    if (!ctx.consts.has(name)) ctx.unsupportedNode(n, `PyTorch ${layerOf(op)}: its bound '${name}' is not a constant`)
    const t = ctx.constTensor(name)
    if (t.data.length !== 1) ctx.unsupportedNode(n, `PyTorch ${layerOf(op)}: its bound '${name}' is not a scalar`)
    return t.data[0]!
  }
  switch (op) {
    case 'Clip': {
      const min = scalar(ins[1]) ?? a.get('min')?.f
      const max = scalar(ins[2]) ?? a.get('max')?.f
      if (min === 0 && max === undefined) ctx.activation({ kind: 'relu' }, n)
      else if (min === undefined || max === undefined || Math.abs(min) > 1e9 || Math.abs(max) > 1e9)
        ctx.unsupportedNode(n, `PyTorch ReLU6/Hardtanh (Clip) with an open bound [${min ?? '-∞'}, ${max ?? '∞'}]`)
      else {
        // F.relu6 exports as Relu → Clip(0, 6): with min ≥ 0 the clamp alone is the same function
        const last = ctx.steps[ctx.steps.length - 1]
        if (min >= 0 && last?.op === 'activation' && last.activation.kind === 'relu') ctx.steps.pop()
        ctx.activation({ kind: 'hardtanh', min, max }, n)
      }
      return true
    }
    case 'HardSigmoid': {
      const alpha = a.get('alpha')?.f ?? 0.2
      const beta = a.get('beta')?.f ?? 0.5
      if (Math.abs(alpha - 1 / 6) > 1e-6 || beta !== 0.5) ctx.unsupportedNode(n, `HardSigmoid(alpha=${alpha}, beta=${beta}) is not PyTorch's Hardsigmoid (alpha=1/6, beta=0.5)`)
      ctx.activation({ kind: 'hardsigmoid' }, n)
      return true
    }
    case 'HardSwish':
      ctx.activation({ kind: 'hardswish' }, n)
      return true
    case 'Elu': {
      const alpha = a.get('alpha')?.f ?? 1
      if (alpha < 0) ctx.unsupportedNode(n, `PyTorch ELU(alpha=${alpha}): alpha < 0`)
      ctx.activation({ kind: 'elu', alpha }, n)
      return true
    }
    case 'Softplus':
      // ONNX has no threshold: PyTorch's default 20 (above it both give x to within 2e-9)
      ctx.activation({ kind: 'softplus', threshold: 20 }, n)
      return true
    case 'Mish':
      ctx.activation({ kind: 'mish' }, n)
      return true
    case 'Gelu': {
      const approx = a.get('approximate')?.s
      const form = approx === undefined ? 'none' : new TextDecoder().decode(approx as Uint8Array)
      if (form !== 'none' && form !== 'tanh') ctx.unsupportedNode(n, `GELU approximate='${form}'`)
      ctx.activation({ kind: 'gelu', approximate: form as 'none' | 'tanh' }, n)
      return true
    }
    case 'PRelu': {
      const s = ins[1]
      if (!s || !ctx.consts.has(s)) ctx.unsupportedNode(n, 'PyTorch PReLU: its slopes must be an initializer')
      const t = ctx.constTensor(s!)
      const slopes = Array.from(t.data)
      if (slopes.every((v) => v === slopes[0])) ctx.activation({ kind: 'leaky_relu', slope: slopes[0]! }, n)
      else {
        // a slope per channel: folded between the Linear layers around it (ir/buildModel.ts, foldPrelu)
        const name = ctx.stepName(n, ctx.consts.get(s!)?.name)
        ctx.tensors.set(`${name}.weight`, { shape: [slopes.length], data: t.data })
        ctx.steps.push({ op: 'prelu', name })
      }
      return true
    }
    case 'LogSoftmax': {
      const axis = a.has('axis') ? num(a.get('axis')!.i) : -1
      if (axis !== -1 && axis !== 1) ctx.unsupportedNode(n, `PyTorch LogSoftmax over axis ${axis}`)
      ctx.activation({ kind: 'log_softmax' }, n)
      return true
    }
  }
  return false
}

/** The PyTorch layer an ONNX op usually comes from, for messages. */
export function layerOf(op: string): string {
  return (
    {
      Clip: 'ReLU6/Hardtanh (Clip)',
      HardSigmoid: 'Hardsigmoid (HardSigmoid)',
      HardSwish: 'Hardswish (HardSwish)',
      Elu: 'ELU (Elu)',
      Softplus: 'Softplus or Mish (Softplus)',
      PRelu: 'PReLU (PRelu)',
      LogSoftmax: 'LogSoftmax',
      Erf: 'GELU (Erf pattern)',
    }[op] ?? op
  )
}

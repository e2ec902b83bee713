// TorchScript's free functions (torch.relu, torch.flatten, F.max_pool2d, torch.size, …) as steps of the
// input chain, for the forward() interpreter (./forwardInterpreter.ts).
import type { Activation } from '../../ir/types.ts'
import { isTorchActivation, torchActivation } from '../torchActivations.ts'
import { tensorModuleSteps } from '../ptTensorModules.ts'
import { OPAQUE, type Val } from './scriptValues.ts'

const FN_ALIASES: Record<string, string> = {
  'torch.relu': 'relu', 'torch.relu_': 'relu', 'torch.nn.functional.relu': 'relu', 'torch.nn.functional.relu_': 'relu',
  'torch.sigmoid': 'sigmoid', 'torch.sigmoid_': 'sigmoid', 'torch.nn.functional.sigmoid': 'sigmoid',
  'torch.tanh': 'tanh', 'torch.tanh_': 'tanh', 'torch.nn.functional.tanh': 'tanh',
  'torch.leaky_relu': 'leaky_relu', 'torch.leaky_relu_': 'leaky_relu', 'torch.nn.functional.leaky_relu': 'leaky_relu',
  'torch.nn.functional.leaky_relu_': 'leaky_relu',
  'torch.softmax': 'softmax', 'torch.nn.functional.softmax': 'softmax',
  'torch.dropout': 'skip', 'torch.nn.functional.dropout': 'skip', 'torch.feature_dropout': 'skip',
  'torch.flatten': 'flatten', 'torch.view': 'flatten', 'torch.reshape': 'flatten',
  'torch.contiguous': 'skip',
}

/** Calls that compute shapes or types (torch.size, int, annotate, …): their values stay opaque. */
const SHAPE_FNS = new Set(['torch.size', 'ops.prim.NumToTensor', 'int', 'annotate', 'torch.len', 'unchecked_cast'])

/** Functional pooling in TorchScript code → the module it stands for, and its arguments after the input. */
const POOL_FNS: Record<string, { cls: string; params: string[] }> = (() => {
  const out: Record<string, { cls: string; params: string[] }> = {}
  for (const d of ['1d', '2d']) {
    const max = { cls: `MaxPool${d}`, params: ['kernel_size', 'stride', 'padding', 'dilation', 'ceil_mode', 'return_indices'] }
    const avg = { cls: `AvgPool${d}`, params: ['kernel_size', 'stride', 'padding', 'ceil_mode', 'count_include_pad', 'divisor_override'] }
    const ada = { cls: `AdaptiveAvgPool${d}`, params: ['output_size'] }
    for (const pre of ['torch.', 'torch.nn.functional.', 'torch.nn.functional._']) {
      out[`${pre}max_pool${d}`] = max
      out[`${pre}avg_pool${d}`] = avg
      out[`${pre}adaptive_avg_pool${d}`] = ada
      out[`${pre}adaptive_max_pool${d}`] = { cls: `AdaptiveMaxPool${d}`, params: ['output_size', 'return_indices'] }
    }
  }
  return out
})()

export function applyFunction(name: string, args: Val[], kwargs: Map<string, Val>, fail: (w: string) => Error): Val {
  if (SHAPE_FNS.has(name)) return name === 'annotate' && args[1] ? args[1] : { k: 'const', v: OPAQUE }
  const pool = POOL_FNS[name]
  if (pool) {
    const x = args[0]
    if (x?.k !== 'tensor') throw fail(`'${name}' not applied to the input chain`)
    const value = (i: number, kw: string) => {
      const v = args[i + 1] ?? kwargs.get(kw)
      if (v === undefined) return undefined
      if (v.k !== 'const' || v.v === OPAQUE) throw fail(`non-constant argument ${kw} of '${name}'`)
      return v.v
    }
    const attrs = new Map(pool.params.map((p, i) => [p, value(i, p)] as const))
    const steps = tensorModuleSteps({ short: pool.cls, path: name.split('.').pop()!.replace(/^_/, ''), attr: (k) => attrs.get(k) }, 'TorchScript code')!
    // torch.adaptive_max_pool1d returns (values, indices): `x0, _0 = torch.adaptive_max_pool1d(x, [4])`
    const out: Val = { k: 'tensor', steps: [...x.steps, ...steps] }
    return /^torch\.adaptive_max_pool[12]d$/.test(name) ? { k: 'tuple', items: [out, { k: 'const', v: OPAQUE }] } : out
  }
  // torch.gelu, torch.nn.functional.relu6, torch.elu_, torch.log_softmax, …: the activations of ../torchActivations.ts
  const fname = /^torch\.(?:nn\.functional\.)?([a-z0-9_]+?)_?$/.exec(name)?.[1]
  if (fname && isTorchActivation(fname)) {
    const x = args[0]
    if (x?.k !== 'tensor') throw fail(`'${name}' not applied to the input chain`)
    const activation = torchActivation(
      fname,
      ([kw], pos) => {
        const v = (pos >= 0 ? args[pos + 1] : undefined) ?? kwargs.get(kw!)
        if (v === undefined || (v.k === 'const' && v.v === null)) return undefined
        if (v.k !== 'const' || !['number', 'string', 'boolean'].includes(typeof v.v)) throw fail(`non-constant argument ${kw} of '${name}'`)
        return v.v as number | string | boolean
      },
      `'${name}' in TorchScript code`,
      'TorchScript code',
    )!
    return { k: 'tensor', steps: [...x.steps, { op: 'activation', activation }] }
  }
  const kind = FN_ALIASES[name]
  if (!kind) throw fail(`unsupported call '${name}'`)
  const x = args[0]
  if (x?.k !== 'tensor') throw fail(`'${name}' not applied to the input chain`)
  const arg = (i: number, kw: string): unknown => {
    const v = args[i] ?? kwargs.get(kw)
    if (v === undefined) return undefined
    if (v.k !== 'const') throw fail(`non-constant argument ${kw} of '${name}'`)
    return v.v
  }
  let activation: Activation | undefined
  switch (kind) {
    case 'relu':
    case 'sigmoid':
    case 'tanh':
      activation = { kind }
      break
    case 'leaky_relu': {
      const s = arg(1, 'negative_slope')
      activation = { kind: 'leaky_relu', slope: typeof s === 'number' ? s : 0.01 }
      break
    }
    case 'softmax': {
      const d = arg(1, 'dim')
      if (!(d === undefined || d === null || d === 1 || d === -1)) throw fail(`softmax over dim ${String(d)}`)
      activation = { kind: 'softmax' }
      break
    }
    case 'skip':
      return x
    case 'flatten':
      if (name === 'torch.flatten' && typeof arg(1, 'start_dim') === 'number' && arg(1, 'start_dim') !== 1) throw fail('flatten over the batch dimension')
      return { k: 'tensor', steps: [...x.steps, { op: 'flatten', name: name.slice('torch.'.length) }] }
  }
  return { k: 'tensor', steps: [...x.steps, { op: 'activation', activation: activation! }] }
}

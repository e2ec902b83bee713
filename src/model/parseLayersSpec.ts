import { ConfigError } from '../errors/base.ts'
import type { Activation, ArchStep, TensorMap } from '../ir/types.ts'
import { isTorchActivation, torchActivation } from './torchActivations.ts'

/** The spellings `model.layers` accepts (case-insensitive; `_` optional; PyTorch class names too). */
export const LAYER_NAMES = [
  'linear',
  'relu',
  'leaky_relu(slope)',
  'sigmoid',
  'tanh',
  'softmax',
  'identity',
  'dropout',
  'flatten',
  'batchnorm(eps)',
  'relu6',
  'hardtanh(min, max)',
  'hardsigmoid',
  'hardswish',
  'elu(alpha)',
  'silu',
  'gelu',
  'gelu(approximate=tanh)',
  'softplus(beta=1, threshold)',
  'mish',
  'prelu',
  'log_softmax',
  'gru',
  'lstm',
] as const

const ACTIVATIONS: Record<string, Activation['kind']> = {
  relu: 'relu',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
  softmax: 'softmax',
  identity: 'identity',
}

/**
 * Turn `model.layers` (e.g. `[linear, relu, linear, sigmoid]`) into architecture steps. The i-th
 * `linear` takes the i-th Linear weight prefix of the state_dict (keys ending `.weight` holding a 2-D
 * tensor, in insertion order); the i-th `batchnorm` the i-th prefix that has a `.running_mean`.
 */
export function parseLayersSpec(spec: string[], tensors: TensorMap, where: string): ArchStep[] {
  if (!Array.isArray(spec) || spec.length === 0)
    throw new ConfigError('model.layers is empty', { where, hint: `list the layers in order, e.g. [linear, relu, linear, sigmoid]` })

  const bnPrefixes: string[] = []
  for (const key of tensors.keys()) if (key.endsWith('.running_mean')) bnPrefixes.push(key.slice(0, -'.running_mean'.length))
  const bnSet = new Set(bnPrefixes)
  const linearPrefixes: string[] = []
  for (const [key, t] of tensors) {
    if (!key.endsWith('.weight') || t.shape.length !== 2) continue
    const prefix = key.slice(0, -'.weight'.length)
    if (!bnSet.has(prefix)) linearPrefixes.push(prefix)
  }

  // nn.PReLU's slopes: a 1-D `.weight` that is no BatchNorm's
  const preluPrefixes = [...tensors].filter(([k, t]) => k.endsWith('.weight') && t.shape.length === 1 && !bnSet.has(k.slice(0, -7))).map(([k]) => k.slice(0, -7))
  // nn.GRU / nn.LSTM modules: the prefixes of their `.weight_ih_l0`
  const recurrentPrefixes = [...tensors.keys()].filter((k) => k.endsWith('.weight_ih_l0') && tensors.has(`${k.slice(0, -13)}.weight_hh_l0`)).map((k) => k.slice(0, -'.weight_ih_l0'.length))
  let nRec = 0
  const steps: ArchStep[] = []
  let nPrelu = 0
  let nLinear = 0
  let nBn = 0
  const supported = `supported: ${LAYER_NAMES.join(', ')} (PyTorch spellings like Linear, ReLU, LeakyReLU(0.1), BatchNorm1d also work)`
  spec.forEach((raw, i) => {
    const at = `model.layers[${i}]`
    if (typeof raw !== 'string') throw new ConfigError(`${at} is ${JSON.stringify(raw)}, expected a layer name`, { where, hint: supported })
    const m = /^\s*(?:torch\.)?(?:nn\.)?([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$/s.exec(raw)
    if (!m) throw new ConfigError(`${at}: cannot read '${raw}'`, { where, hint: supported })
    const name = m[1]!.toLowerCase().replace(/_/g, '')
    const args = parseArgs(m[2], at, raw, where)
    const num = (keys: string[], dflt: number): number => {
      const v = args.named.get(keys.find((k) => args.named.has(k)) ?? '') ?? args.positional[0]
      if (v === undefined) return dflt
      const n = Number(v)
      if (!Number.isFinite(n)) throw new ConfigError(`${at}: '${raw}' has a non-numeric argument '${v}'`, { where, hint: supported })
      return n
    }
    switch (name) {
      case 'linear':
      case 'dense':
      case 'gemm': {
        const prefix = linearPrefixes[nLinear]
        if (prefix === undefined)
          throw new ConfigError(`${at}: linear #${nLinear + 1} has no weights: the state_dict holds ${linearPrefixes.length} Linear layer(s)${linearPrefixes.length ? ` (${linearPrefixes.join(', ')})` : ''}`, {
            where,
            hint: 'declare one linear per 2-D `.weight` tensor in the state_dict',
          })
        if (args.positional.length === 2) {
          // Linear(in, out): check against the tensor so a wrong spec fails here, not later.
          const [inp, out] = args.positional.map(Number) as [number, number]
          const w = tensors.get(`${prefix}.weight`)!
          if (w.shape[0] !== out || w.shape[1] !== inp)
            throw new ConfigError(`${at}: '${raw}' but '${prefix}.weight' is [${w.shape}] (out, in)`, { where })
        }
        nLinear++
        steps.push({ op: 'linear', name: prefix })
        return
      }
      case 'batchnorm':
      case 'batchnorm1d':
      case 'bn': {
        const prefix = bnPrefixes[nBn]
        if (prefix === undefined)
          throw new ConfigError(`${at}: batchnorm #${nBn + 1} has no running statistics: the state_dict holds ${bnPrefixes.length} BatchNorm layer(s)`, {
            where,
            hint: 'a BatchNorm needs `<name>.running_mean` / `.running_var` in the state_dict',
          })
        nBn++
        // BatchNorm1d(num_features) or batchnorm(eps): a lone integer ≥ 1 is the feature count.
        const eps = args.named.has('eps')
          ? num(['eps'], 1e-5)
          : args.positional.length === 1 && Number(args.positional[0]) < 1
            ? num([], 1e-5)
            : args.positional.length >= 2
              ? Number(args.positional[1])
              : 1e-5
        steps.push({ op: 'batchnorm', name: prefix, eps })
        return
      }
      case 'leakyrelu':
      case 'lrelu': {
        const slope = num(['negative_slope', 'slope', 'alpha'], 0.01)
        steps.push({ op: 'activation', activation: { kind: 'leaky_relu', slope } })
        return
      }
      case 'gru':
      case 'lstm': {
        // nn.GRU / nn.LSTM (first): its last time step's output, out[:, -1, :] (h_n[-1] for one direction)
        const prefix = recurrentPrefixes[nRec++]
        const G = prefix === undefined ? 0 : tensors.get(`${prefix}.weight_ih_l0`)!.shape[0]! / tensors.get(`${prefix}.weight_hh_l0`)!.shape[1]!
        if (prefix === undefined || G !== (name === 'gru' ? 3 : 4))
          throw new ConfigError(`${at}: ${name} #${nRec} has no ${name.toUpperCase()} weights in the state_dict${prefix ? ` ('${prefix}' has ${G} gate blocks)` : ''}`, { where, hint: 'a GRU needs `<name>.weight_ih_l0` with 3 gate blocks, an LSTM 4' })
        steps.push({ op: name, name: prefix, readout: [{ out: -1 }] })
        return
      }
      case 'dropout':
      case 'flatten':
        steps.push({ op: 'skip', name })
        return
      case 'none':
      case 'linearactivation':
        steps.push({ op: 'activation', activation: { kind: 'identity' } })
        return
      case 'prelu': {
        const prefix = preluPrefixes[nPrelu++]
        if (prefix === undefined) throw new ConfigError(`${at}: prelu #${nPrelu} has no slopes in the state_dict`, { where, hint: 'a PReLU needs `<name>.weight` (its slopes)' })
        steps.push({ op: 'prelu', name: prefix })
        return
      }
      default: {
        const torchName = name === 'swish' ? 'silu' : name === 'gelutanh' ? 'gelu' : name
        if (isTorchActivation(torchName)) {
          const arg = (keys: string[], pos: number) => {
            const v = args.named.get(keys.find((k) => args.named.has(k)) ?? '') ?? (pos >= 0 ? args.positional[pos] : undefined)
            if (v === undefined) return name === 'gelutanh' && keys[0] === 'approximate' ? 'tanh' : undefined
            return Number.isFinite(Number(v)) ? Number(v) : v.replace(/^['"]|['"]$/g, '')
          }
          steps.push({ op: 'activation', activation: torchActivation(torchName, arg, at, where)! })
          return
        }
        const kind = ACTIVATIONS[name]
        if (!kind) throw new ConfigError(`${at}: unknown layer '${raw}'`, { where, hint: supported })
        if (kind === 'identity') steps.push({ op: 'skip', name: 'identity' })
        else steps.push({ op: 'activation', activation: { kind } as Activation })
      }
    }
  })
  if (nLinear < linearPrefixes.length)
    throw new ConfigError(`model.layers declares ${nLinear} linear layer(s) but the state_dict holds ${linearPrefixes.length} (${linearPrefixes.join(', ')})`, {
      where,
      hint: 'declare one linear per Linear layer, in order',
    })
  return steps
}

function parseArgs(text: string | undefined, at: string, raw: string, where: string): { positional: string[]; named: Map<string, string> } {
  const positional: string[] = []
  const named = new Map<string, string>()
  if (text === undefined || text.trim() === '') return { positional, named }
  for (const part of text.split(',')) {
    const p = part.trim()
    if (!p) continue
    const kv = /^([A-Za-z_]\w*)\s*=\s*(.+)$/.exec(p)
    if (kv) named.set(kv[1]!.toLowerCase(), kv[2]!.trim())
    else if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(p)) positional.push(p)
    else if (/^(true|false)$/i.test(p)) named.set('_flag', p)
    else throw new ConfigError(`${at}: cannot read argument '${p}' in '${raw}'`, { where, hint: 'arguments are numbers, e.g. leaky_relu(0.1) or batchnorm(1e-5)' })
  }
  return { positional, named }
}

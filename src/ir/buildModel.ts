import { ModelError } from '../errors/base.ts'
import { opOf } from './ops/index.ts'
import { buildRecurrent } from './buildRecurrent.ts'
import { attentionFirst, attentionModel } from './attentionFirst.ts'
import type { RecurrentLayer } from './recurrentTypes.ts'
import { buildTensorLayers } from './buildTensorLayers.ts'
import { describeInput, inputWidth, type LayerInput } from './layerInput.ts'
import type { Activation, ArchStep, DenseLayer, ModelIR, Tensor, TensorMap } from './types.ts'

/**
 * Attach a state_dict's tensors to an architecture and check every shape. BatchNorm1d is folded into
 * the Linear before it (or, when it comes first, into the Linear after it); Dropout/Identity/Flatten vanish.
 * Convolution/pooling steps before the flatten become `tensorLayers` (see buildTensorLayers); they need
 * `inputShape` ([C, H, W] or [C, L]).
 */
export function buildModel(archSteps: ArchStep[], tensors: TensorMap, format: string, file = 'model', inputShape?: number[]): ModelIR {
  const resolve = (s: ArchStep): ArchStep => (s.op === 'prelu' ? resolvePrelu(s.name, tensors, file) : s.op === 'join' ? { ...s, branches: s.branches.map((b) => b.map(resolve)) } : s)
  const steps = archSteps.map(resolve)
  const layers: DenseLayer[] = []
  let pendingBn: { scale: number[]; shift: number[]; name: string } | undefined
  /** A PReLU with a slope per channel, waiting for the Linear after it (foldPrelu). */
  let pendingPrelu: { name: string; slopes: number[]; layer: DenseLayer } | undefined
  const prelus = (ss: ArchStep[]): string[] => ss.flatMap((s) => (s.op === 'prelu' ? [`${s.name}.weight`] : s.op === 'join' ? s.branches.flatMap(prelus) : []))
  const used = new Set<string>(prelus(archSteps))
  /** A graph model: what the next Linear reads when it is not the last layer's output (a skip, a sum, a concat). */
  let pending: LayerInput | undefined
  const current = (): LayerInput => pending ?? { op: 'concat', values: [layers.length] }
  const valueName = (v: number) => (v === 0 ? 'the input' : `'${layers[v - 1]!.name}'`)
  const notOnJoin = (what: string) => {
    if (pending) throw new ModelError(`${what} is applied to ${describeInput(pending, valueName)}, a residual sum, concatenation or skipped value`, { where: file, hint: 'ml2sc supports a Linear after a residual add or torch.cat; put activations and BatchNorm inside the branches' })
  }
  const take = (key: string, what: string): Tensor => {
    const t = tensors.get(key)
    if (!t) {
      const have = [...tensors.keys()].slice(0, 8).join(', ')
      throw new ModelError(`missing tensor '${key}' for ${what}`, {
        where: file,
        hint: `the state_dict has: ${have}${tensors.size > 8 ? ', …' : ''}; check model.layers or model.source`,
      })
    }
    used.add(key)
    return t
  }

  // a sequence model: its GRU/LSTM comes first, the dense layers take its last hidden state
  const r = steps.findIndex((st) => st.op === 'gru' || st.op === 'lstm')
  let recurrent: RecurrentLayer | undefined
  if (r >= 0) {
    const st = steps[r]!
    if (st.op !== 'gru' && st.op !== 'lstm') throw new Error('unreachable')
    const before = steps.slice(0, r).find((x) => x.op !== 'skip')
    if (before) throw new ModelError(`${st.op.toUpperCase()} '${st.name}' must be the model's first layer on chain (found ${before.op} before it)`, { where: file })
    const again = steps.slice(r + 1).find((x) => x.op === 'gru' || x.op === 'lstm')
    if (again) throw new ModelError(`a second recurrent layer ('${'name' in again ? again.name : ''}') is not supported on chain yet`, { where: file, hint: 'one GRU/LSTM layer, then Linear heads' })
    recurrent = buildRecurrent(st, inputShape, take, (k) => tensors.get(k), (k) => used.add(k), file)
    steps.splice(0, r + 1)
  }
  // self-attention comes first too; the dense layers take its pooled output
  const attention = recurrent ? undefined : attentionFirst(steps, inputShape, take, (k) => tensors.get(k), (k) => used.add(k), file)
  const front = buildTensorLayers(steps, recurrent || attention ? undefined : inputShape, take, (k) => tensors.get(k), (k) => used.add(k), file)
  if (front.tensorLayers.length && JSON.stringify(archSteps).includes('"op":"join"'))
    throw new ModelError('a convolutional model with a residual add or torch.cat is not supported yet', { where: file, hint: 'residual adds and torch.cat are supported in dense models (Linear layers)' })
  const visit = (step: ArchStep): void => {
    if (step.op === 'skip' || step.op === 'flatten') return
    if (step.op === 'join') {
      if (pendingBn || pendingPrelu) throw new ModelError(`BatchNorm or PReLU '${(pendingBn ?? pendingPrelu)!.name}' before a residual add or torch.cat cannot be folded`, { where: file })
      const from = current()
      const ends = step.branches.map((branch) => {
        pending = from
        branch.forEach(visit)
        return current()
      })
      pending = joinExpressions(step.kind, ends, file)
      return
    }
    if (step.op !== 'linear') notOnJoin(step.op === 'activation' ? describeActivation(step.activation) : step.op === 'batchnorm' ? `BatchNorm '${step.name}'` : step.op)
    if (step.op === 'prelu') {
      const last = layers[layers.length - 1]
      const slopes = Array.from(tensors.get(`${step.name}.weight`)!.data)
      if (!last || last.activation.kind !== 'identity' || pendingBn || pendingPrelu || slopes.length !== last.weight.length)
        throw new ModelError(`PReLU '${step.name}' with ${slopes.length} slopes does not follow a Linear of ${slopes.length} outputs directly`, { where: file, hint: 'a per-channel PReLU is supported between two Linear layers' })
      pendingPrelu = { name: step.name, slopes, layer: last }
      return
    }
    if (pendingPrelu && step.op !== 'linear' && !(step.op === 'activation' && step.activation.kind === 'identity'))
      throw new ModelError(`PReLU '${pendingPrelu.name}' (a slope per channel) must be followed by a Linear, not ${step.op === 'activation' ? describeActivation(step.activation) : step.op}`, { where: file })
    if (step.op === 'linear') {
      const w = take(`${step.name}.weight`, `Linear '${step.name}'`)
      if (w.shape.length !== 2) throw new ModelError(`'${step.name}.weight' has shape [${w.shape}], expected 2-D`, { where: file })
      const [out, inp] = w.shape as [number, number]
      const weight = Array.from({ length: out }, (_, o) => Array.from(w.data.subarray(o * inp, (o + 1) * inp)))
      const b = tensors.get(`${step.name}.bias`)
      if (b) used.add(`${step.name}.bias`)
      if (b && (b.shape.length !== 1 || b.shape[0] !== out))
        throw new ModelError(`'${step.name}.bias' has shape [${b.shape}], expected [${out}]`, { where: file })
      let bias = b ? Array.from(b.data) : new Array<number>(out).fill(0)
      if (pendingBn) {
        // BN before this Linear: W·(s⊙x + t) + b = (W·diag(s))x + (W·t + b)
        const { scale, shift } = pendingBn
        if (scale.length !== inp) throw new ModelError(`BatchNorm '${pendingBn.name}' has ${scale.length} features but Linear '${step.name}' takes ${inp}`, { where: file })
        bias = bias.map((bj, j) => bj + weight[j]!.reduce((s, wji, i) => s + wji * shift[i]!, 0))
        for (const row of weight) for (let i = 0; i < inp; i++) row[i]! *= scale[i]!
        pendingBn = undefined
      }
      if (pendingPrelu) weight.splice(0, weight.length, ...foldPrelu(pendingPrelu.layer, pendingPrelu.slopes, weight))
      pendingPrelu = undefined
      const input = pending && !(pending.values.length === 1 && pending.values[0] === layers.length) ? pending : undefined
      pending = undefined
      layers.push({ name: step.name, weight, bias, activation: { kind: 'identity' }, ...(input ? { input } : {}) })
      return
    }
    if (step.op === 'affine') {
      // x − m, x / s, x · s with a registered buffer: a per-feature scale and shift, folded like BatchNorm
      const t = take(step.name, `the buffer 'self.${step.name}'`)
      const v = Array.from(t.data)
      const n = pendingBn?.scale.length ?? layers[layers.length - 1]?.weight.length ?? (v.length > 1 ? v.length : nextWidth())
      const at = (i: number) => (v.length === 1 ? v[0]! : v[i]!)
      if (v.length !== 1 && v.length !== n) throw new ModelError(`buffer '${step.name}' has ${v.length} values for ${n} features`, { where: file })
      const scale = Array.from({ length: n }, (_, i) => (step.how === 'div' ? 1 / at(i) : step.how === 'mul' ? at(i) : 1))
      const shift = Array.from({ length: n }, (_, i) => (step.how === 'sub' ? -at(i) : 0))
      const last = layers[layers.length - 1]
      if (last && last.activation.kind === 'identity' && !pendingBn) {
        last.weight = last.weight.map((row, j) => row.map((w) => w * scale[j]!))
        last.bias = last.bias.map((b, j) => b * scale[j]! + shift[j]!)
      } else if (pendingBn) {
        // compose: (x·s1 + t1)·s2 + t2
        pendingBn = { name: step.name, scale: pendingBn.scale.map((s1, i) => s1 * scale[i]!), shift: pendingBn.shift.map((t1, i) => t1 * scale[i]! + shift[i]!) }
      } else pendingBn = { scale, shift, name: step.name }
      return
    }
    if (step.op === 'batchnorm') {
      const g = take(`${step.name}.running_mean`, `BatchNorm '${step.name}'`)
      const v = take(`${step.name}.running_var`, `BatchNorm '${step.name}'`)
      const n = g.shape[0]!
      const gamma = tensors.get(`${step.name}.weight`)?.data ?? new Float64Array(n).fill(1)
      const beta = tensors.get(`${step.name}.bias`)?.data ?? new Float64Array(n)
      for (const k of ['weight', 'bias', 'num_batches_tracked']) used.add(`${step.name}.${k}`)
      const eps = step.eps ?? 1e-5
      const scale = Array.from(gamma, (gm, i) => gm / Math.sqrt(v.data[i]! + eps))
      const shift = Array.from(beta, (bt, i) => bt - g.data[i]! * scale[i]!)
      const last = layers[layers.length - 1]
      if (last && last.activation.kind === 'identity') {
        if (last.weight.length !== n) throw new ModelError(`BatchNorm '${step.name}' has ${n} features but Linear '${last.name}' gives ${last.weight.length}`, { where: file })
        last.weight = last.weight.map((row, j) => row.map((w) => w * scale[j]!))
        last.bias = last.bias.map((b, j) => b * scale[j]! + shift[j]!)
      } else if (!pendingBn) {
        pendingBn = { scale, shift, name: step.name }
      } else {
        throw new ModelError(`BatchNorm '${step.name}' cannot be folded: it follows a non-linear activation`, { where: file, hint: 'only BatchNorm1d next to a Linear is supported' })
      }
      return
    }
    if (step.op !== 'activation') return // conv/pool steps here were refused by buildTensorLayers
    const last = layers[layers.length - 1]
    if (!last) throw new ModelError(`activation ${describeActivation(step.activation)} comes before any Linear layer`, { where: file })
    if (last.activation.kind !== 'identity') {
      if (step.activation.kind === 'identity') return
      throw new ModelError(`two activations in a row after '${last.name}' (${describeActivation(last.activation)}, then ${describeActivation(step.activation)})`, { where: file, hint: 'insert a Linear between them' })
    }
    last.activation = step.activation
  }
  /** The width of the first Linear after the steps so far (a scalar buffer before any layer broadcasts to it). */
  const nextWidth = (): number => {
    const first = front.rest.find((st) => st.op === 'linear')
    return first?.op === 'linear' ? (tensors.get(`${first.name}.weight`)?.shape[1] ?? 1) : 1
  }
  front.rest.forEach(visit)
  if (pending) throw new ModelError(`the model returns ${describeInput(pending, valueName)}, a residual sum or concatenation`, { where: file, hint: 'ml2sc needs a Linear layer after a residual add or torch.cat (its output layer)' })
  if (pendingPrelu)
    throw new ModelError(`PReLU '${pendingPrelu.name}' (a slope per channel) ends the model`, { where: file, hint: 'a per-channel PReLU is supported between two Linear layers; nn.PReLU() with one slope anywhere' })
  if (pendingBn) throw new ModelError(`BatchNorm '${pendingBn.name}' is not next to a Linear layer`, { where: file })
  if (layers.length === 0) throw new ModelError('the model has no Linear layers', { where: file, hint: front.tensorLayers.length ? 'a convolutional model must end in a flatten and Linear layers' : 'ml2sc handles multi-layer perceptrons: Linear layers with activations' })
  if (front.flatSize !== undefined && layers[0]!.weight[0]!.length !== front.flatSize) {
    const last = front.tensorLayers[front.tensorLayers.length - 1]!
    throw new ModelError(`Linear '${layers[0]!.name}' takes ${layers[0]!.weight[0]!.length} inputs but '${last.name}' gives ${last.outShape.join('×')} = ${front.flatSize}`, { where: file, hint: 'check model.inputShape' })
  }

  if (layers[0]!.input) throw new ModelError(`the first Linear '${layers[0]!.name}' reads ${describeInput(layers[0]!.input, valueName)}`, { where: file, hint: 'a residual add or torch.cat is supported after the first Linear layer' })
  const widths = [layers[0]!.weight[0]!.length, ...layers.map((l) => l.weight.length)]
  for (let l = 1; l < layers.length; l++) {
    const { input, name } = layers[l]!
    const inp = layers[l]!.weight[0]!.length
    const have = inputWidth(input, l, widths)
    if (have === undefined) throw new ModelError(`the residual add ${describeInput(input!, valueName)} before '${name}' adds values of widths ${input!.values.map((v) => widths[v]).join(' and ')}`, { where: file, hint: 'a residual add needs branches of the same width' })
    if (have !== inp)
      throw new ModelError(`layer '${name}' takes ${inp} inputs but ${input ? describeInput(input, valueName) : valueName(l)} gives ${have}`, { where: file, hint: 'the declared layers do not match the state_dict shapes' })
  }
  layers.forEach((layer, l) => {
    if (opOf(layer.activation).shape === 'vector' && l !== layers.length - 1)
      throw new ModelError(`${layer.activation.kind} is only supported on the last layer (found after '${layer.name}')`, { where: file })
  })
  // GRU/LSTM weights (`weight_ih_l0`, …) count too: a state_dict's recurrent layer is never dropped silently
  const unused = [...tensors.keys()].filter((k) => !used.has(k) && /\.(weight|bias)(_(ih|hh)_l\d+(_reverse)?)?$/.test(k))
  if (unused.length)
    throw new ModelError(`the state_dict has weights no declared layer uses: ${unused.slice(0, 5).join(', ')}`, { where: file, hint: 'declare every Linear in model.layers / model.source' })
  if (attention) return attentionModel(format, attention, layers, file)
  if (recurrent) {
    const H = recurrent.hidden
    const joined = layers.find((l) => l.input)
    if (joined) throw new ModelError(`layer '${joined.name}' reads a residual sum, concatenation or skipped value after a ${recurrent.kind.toUpperCase()}`, { where: file, hint: 'residual adds and torch.cat are supported in dense models without a GRU/LSTM for now' })
    if (layers[0]!.weight[0]!.length !== H)
      throw new ModelError(`Linear '${layers[0]!.name}' takes ${layers[0]!.weight[0]!.length} inputs but ${recurrent.kind.toUpperCase()} '${recurrent.name}' gives its last hidden state (${H})`, { where: file })
    return { format, inputSize: recurrent.steps * recurrent.features, inputShape: [recurrent.steps, recurrent.features], recurrent, layers }
  }
  if (front.tensorLayers.length) return { format, inputSize: front.tensorLayers[0]!.inShape.reduce((a, b) => a * b, 1), inputShape: [...inputShape!], tensorLayers: front.tensorLayers, layers }
  return { format, inputSize: layers[0]!.weight[0]!.length, layers }
}

/** `relu`, `leaky_relu(0.1)`, `hardtanh(0, 6)`, `gelu(tanh)`: the kind and its parameters. */
export function describeActivation(a: Activation): string {
  if (a.kind === 'gelu') return a.approximate === 'tanh' ? 'gelu(tanh)' : 'gelu'
  if (a.kind === 'layer_norm') return `${a.groups > 1 ? `group_norm(${a.groups}, ` : 'layer_norm('}eps ${a.eps}${a.gamma || a.beta ? ', affine' : ''})`
  if (a.kind === 'affine') return `batchnorm(${a.scale.length})`
  const params = Object.entries(a).flatMap(([k, v]) => (k === 'kind' ? [] : [String(v)]))
  return params.length ? `${a.kind}(${params.join(', ')})` : a.kind
}

/**
 * nn.PReLU: one slope (num_parameters=1, or all equal) is exactly a LeakyReLU with that slope (folded so).
 * Different slopes per channel stay a `prelu` step, folded by foldPrelu between two Linear layers.
 */
function resolvePrelu(name: string, tensors: TensorMap, file: string): ArchStep {
  const w = tensors.get(`${name}.weight`)
  if (!w) throw new ModelError(`missing tensor '${name}.weight' for PReLU '${name}'`, { where: file })
  const slopes = Array.from(w.data)
  if (slopes.some((a) => a !== slopes[0])) return { op: 'prelu', name }
  return { op: 'activation', activation: { kind: 'leaky_relu', slope: slopes[0]! }, name }
}

/**
 * A per-channel PReLU between Linear `prev` (y = Wx + b) and the next Linear (weights `next`), folded
 * exactly: prelu(y) = relu(y) − a ⊙ relu(−y), so `prev` becomes [W; −W], [b; −b] with a ReLU, and the next
 * Linear's weights [V, −V·diag(a)]. Twice the outputs in `prev`, no new op on chain.
 */
function foldPrelu(prev: DenseLayer, a: number[], next: number[][]): number[][] {
  prev.weight = [...prev.weight, ...prev.weight.map((row) => row.map((w) => -w))]
  prev.bias = [...prev.bias, ...prev.bias.map((b) => -b)]
  prev.activation = { kind: 'relu' }
  return next.map((row) => [...row, ...row.map((v, i) => -v * a[i]!)])
}

/** The branches' ends summed or concatenated, flattened into one layer input: h + f(h) + g(h + f(h)) is one sum of three values. */
function joinExpressions(kind: 'add' | 'concat', ends: LayerInput[], file: string): LayerInput {
  const values: number[] = []
  for (const e of ends) {
    if (e.values.length > 1 && e.op !== kind)
      throw new ModelError(`a ${kind === 'add' ? 'residual add of a torch.cat' : 'torch.cat of a residual sum'} needs a Linear between them`, { where: file, hint: 'ml2sc supports sums of values and concatenations of values, not one inside the other' })
    values.push(...e.values)
  }
  return { op: kind, values }
}

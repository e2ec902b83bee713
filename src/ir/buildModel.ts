import { ModelError } from '../errors/base.ts'
import { flatActivations, thenActivation } from './ops/index.ts'
import { batchNormAffine, composeAffine, composes, identityLayer, normActivation, type PendingAffine } from './normSteps.ts'
import { foldPrelu, resolvePrelu } from './prelu.ts'
import { buildRecurrent } from './buildRecurrent.ts'
import { readoutOf, type RecurrentLayer } from './recurrentTypes.ts'
import { attentionFirst, attentionModel } from './attentionFirst.ts'
import { buildTensorLayers } from './buildTensorLayers.ts'
import { describeInput, inputWidth, type LayerInput } from './layerInput.ts'
import { foldEmbeddings } from './foldEmbedding.ts'
import type { CategoricalInput } from './categorical.ts'
import { HEADS_LAYER, headsLayer } from './heads.ts'
import { markSharedLayers } from './sharedLayers.ts'
import type { Activation, ArchStep, DenseLayer, Head, ModelIR, Tensor, TensorMap } from './types.ts'

/**
 * Attach a state_dict's tensors to an architecture and check every shape. BatchNorm1d is folded into
 * the Linear before it (or, when it comes first, into the Linear after it); Dropout/Identity/Flatten vanish.
 * Convolution/pooling steps before the flatten become `tensorLayers` (see buildTensorLayers); they need
 * `inputShape` ([C, H, W] or [C, L]). A module applied again is marked as sharing its first use's weights (sharedLayers.ts).
 */
export function buildModel(archSteps: ArchStep[], tensors: TensorMap, format: string, file = 'model', inputShape?: number[]): ModelIR {
  return markSharedLayers(attachWeights(archSteps, tensors, format, file, inputShape))
}

function attachWeights(archSteps: ArchStep[], tensors: TensorMap, format: string, file: string, inputShape?: number[]): ModelIR {
  const resolve = (s: ArchStep): ArchStep => (s.op === 'prelu' ? resolvePrelu(s.name, tensors, file) : s.op === 'join' || s.op === 'heads' ? { ...s, branches: s.branches.map((b) => b.map(resolve)) } : s)
  const steps = archSteps.map(resolve)
  const layers: DenseLayer[] = []
  /** A per-feature affine (BatchNorm, a buffer, a norm's γ/β) waiting for the next Linear to fold it (else run on chain: flushAffine). */
  let pendingBn: PendingAffine | undefined
  /** A PReLU with a slope per channel, waiting for the Linear after it (foldPrelu). */
  let pendingPrelu: { name: string; slopes: number[]; layer: DenseLayer } | undefined
  const prelus = (ss: ArchStep[]): string[] => ss.flatMap((s) => (s.op === 'prelu' ? [`${s.name}.weight`] : s.op === 'join' || s.op === 'heads' ? s.branches.flatMap(prelus) : []))
  const used = new Set<string>(prelus(archSteps))
  /** A graph model: what the next Linear reads when it is not the last layer's output (a skip, a sum, a concat; with its post op). */
  let pending: LayerInput | undefined
  const current = (): LayerInput => pending ?? { op: 'concat', values: [layers.length] }
  const valueName = (v: number) => (v === 0 ? 'the input' : `'${layers[v - 1]!.name}'`)
  const valueWidth = (v: number): number | undefined => (v === 0 ? (layers[0]?.weight[0]?.length ?? nextWidth()) : layers[v - 1]!.weight.length)
  /** The width of the value so far (the pending join's, else the last layer's outputs). */
  const currentWidth = (): number | undefined => {
    const ws = current().values.map(valueWidth)
    return current().op === 'add' ? ws[0] : ws.every((w) => w !== undefined) ? ws.reduce((x, y) => x! + y!, 0) : undefined
  }
  /** `a` applied to the value so far: the pending join's post op, or the last layer's activation (composed). */
  const applyToCurrent = (a: Activation, what: string) => {
    if (a.kind === 'identity') return
    if (pending) {
      pending = { ...pending, post: thenActivation(pending.post ?? { kind: 'identity' }, a) }
      return
    }
    const last = layers[layers.length - 1]
    if (!last) throw new ModelError(`${what} comes before any Linear layer`, { where: file, hint: 'put it after a Linear layer, or (BatchNorm) directly before one' })
    if (!composes(last.activation) && !composes(a) && last.activation.kind !== 'identity')
      throw new ModelError(`two activations in a row after '${last.name}' (${describeActivation(last.activation)}, then ${describeActivation(a)})`, { where: file, hint: 'insert a Linear between them' })
    last.activation = thenActivation(last.activation, a)
  }
  /** A waiting affine with no Linear to fold into next: run on chain as a per-feature op. */
  const flushAffine = () => {
    if (!pendingBn) return
    const { scale, shift, name } = pendingBn
    pendingBn = undefined
    applyToCurrent({ kind: 'affine', scale, shift }, `BatchNorm '${name}'`)
  }
  /** A join with a post op read by another join (stacked normalised residual blocks): made a value by an identity Linear. */
  let materialised = 0
  const materialise = (e: LayerInput): LayerInput => {
    if (!e.post) return e
    const ws = e.values.map((v) => valueWidth(v)!)
    layers.push(identityLayer(`value${++materialised}`, e.op === 'add' ? ws[0]! : ws.reduce((x, y) => x + y, 0), e, pendingBn))
    pendingBn = undefined
    return { op: 'concat', values: [layers.length] }
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
  // nn.Embedding at the input: cat([emb(x[:, 0]), x[:, 1:]]) folds into the first Linear (foldEmbedding.ts)
  let pendingEmbed: Extract<ArchStep, { op: 'embedcat' }> | undefined
  let embedded: { categorical: CategoricalInput[]; inputSize: number } | undefined
  const firstReal = steps.findIndex((st) => st.op !== 'skip')
  if (steps[firstReal]?.op === 'embedcat') {
    if (recurrent || attention) throw new ModelError('an embedding before a GRU/LSTM or self-attention is not supported on chain', { where: file })
    pendingEmbed = steps[firstReal] as Extract<ArchStep, { op: 'embedcat' }>
    steps.splice(firstReal, 1)
  }
  const late = (ss: ArchStep[]): boolean => ss.some((st) => st.op === 'embedcat' || (st.op === 'join' && st.branches.some(late)))
  if (late(steps)) throw new ModelError('an nn.Embedding is supported only on the model\'s input columns, read first in forward()', { where: file, hint: 'x = torch.cat([self.emb(x[:, 0].long()), x[:, 1:]], dim=1), then a Linear' })
  const front = buildTensorLayers(steps, recurrent || attention ? undefined : inputShape, take, (k) => tensors.get(k), (k) => used.add(k), file)
  if (front.tensorLayers.length && /"op":"join"/.test(JSON.stringify(front.rest)))
    throw new ModelError('a residual add or torch.cat after the flatten of a convolutional model is not supported yet', { where: file, hint: 'in a convolutional model, residual adds and torch.cat (dim=1) join conv/pool tensors before the flatten' })
  let heads: Head[] | undefined
  const visit = (step: ArchStep): void => {
    if (step.op === 'skip' || step.op === 'flatten') return
    if (pendingEmbed && step.op !== 'linear') throw new ModelError(`the embeddings' concatenation must go straight into a Linear (found ${step.op === 'activation' ? describeActivation(step.activation) : step.op})`, { where: file, hint: 'x = torch.cat([self.emb(x[:, 0].long()), x[:, 1:]], dim=1); h = self.fc1(x)' })
    if (heads) throw new ModelError(`${step.op} '${'name' in step ? step.name : ''}' follows the model's outputs`, { where: file, hint: 'a tuple of outputs must be what forward() returns' })
    if (step.op === 'heads') {
      // several outputs: each branch from the shared value, then one `heads` layer lays them side by side (heads.ts)
      const from = current()
      if (pendingBn || pendingPrelu) throw new ModelError(`BatchNorm or PReLU '${(pendingBn ?? pendingPrelu)!.name}' before the model's outputs cannot be folded`, { where: file })
      const ends = step.branches.map((branch) => {
        pending = from
        branch.forEach(visit)
        if (pendingBn || pendingPrelu) throw new ModelError(`BatchNorm or PReLU '${(pendingBn ?? pendingPrelu)!.name}' ends an output`, { where: file })
        return current()
      })
      pending = undefined
      const h = headsLayer(step.names, ends, (v) => (v === 0 ? (layers[0]?.weight[0]?.length ?? 0) : layers[v - 1]!.weight.length), file)
      layers.push(h.layer)
      heads = h.heads
      return
    }
    if (step.op === 'join') {
      if (pendingPrelu) throw new ModelError(`PReLU '${pendingPrelu.name}' before a residual add or torch.cat cannot be folded`, { where: file })
      // a normalised/activated sum read by both branches: made a value once (a waiting γ/β folded into it)
      if (pending?.post) pending = materialise(pending)
      // a waiting affine goes down each branch: folded into a branch's first Linear, else run on chain there
      const bn = pendingBn
      const from = current()
      const ends = step.branches.map((branch) => {
        pending = from
        pendingBn = bn
        branch.forEach(visit)
        flushAffine()
        return current()
      })
      pending = undefined
      pending = joinExpressions(step.kind, ends.map(materialise), file)
      return
    }
    if (step.op === 'prelu') {
      const last = layers[layers.length - 1]
      const slopes = Array.from(tensors.get(`${step.name}.weight`)!.data)
      if (pending || !last || last.activation.kind !== 'identity' || pendingBn || pendingPrelu || slopes.length !== last.weight.length)
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
      // self.fc(out) over a GRU/LSTM's whole sequence, then flattened: the same Linear at every step, block-diagonal
      if (step.perStep) return void layers.push(perStepLinear(step.name, weight, bias, recurrent?.steps ?? 1))
      if (pendingBn) {
        // BN before this Linear: W·(s⊙x + t) + b = (W·diag(s))x + (W·t + b)
        const { scale, shift } = pendingBn
        if (scale.length !== inp) throw new ModelError(`BatchNorm '${pendingBn.name}' has ${scale.length} features but Linear '${step.name}' takes ${inp}`, { where: file })
        bias = bias.map((bj, j) => bj + weight[j]!.reduce((s, wji, i) => s + wji * shift[i]!, 0))
        for (const row of weight) for (let i = 0; i < inp; i++) row[i]! *= scale[i]!
        pendingBn = undefined
      }
      if (pendingPrelu) weight.splice(0, weight.length, ...foldPrelu(pendingPrelu.layer, pendingPrelu.slopes, weight))
      if (pendingEmbed) {
        const folded = foldEmbeddings(pendingEmbed.pieces, { name: step.name, weight }, take, file)
        weight.splice(0, weight.length, ...folded.weight)
        embedded = { categorical: folded.categorical, inputSize: folded.inputSize }
        pendingEmbed = undefined
      }
      pendingPrelu = undefined
      const input = pending && (pending.post || !(pending.values.length === 1 && pending.values[0] === layers.length)) ? pending : undefined
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
      const last = pending ? undefined : layers[layers.length - 1]
      if (last && last.activation.kind === 'identity' && !pendingBn) {
        last.weight = last.weight.map((row, j) => row.map((w) => w * scale[j]!))
        last.bias = last.bias.map((b, j) => b * scale[j]! + shift[j]!)
      } else pendingBn = pendingBn ? composeAffine(pendingBn, { scale, shift, name: step.name }) : { scale, shift, name: step.name }
      return
    }
    if (step.op === 'batchnorm') {
      // next to a Linear: folded into it (before: its outputs scaled; after: its weights), else per feature on chain
      const bn = batchNormAffine(step, tensors, take, used)
      const n = bn.scale.length
      const last = pending ? undefined : layers[layers.length - 1]
      const width = layers.length ? currentWidth() : undefined
      if (width !== undefined && width !== n) throw new ModelError(`BatchNorm '${step.name}' has ${n} features but its input has ${width}`, { where: file })
      if (last && last.activation.kind === 'identity' && !pendingBn) {
        last.weight = last.weight.map((row, j) => row.map((w) => w * bn.scale[j]!))
        last.bias = last.bias.map((b, j) => b * bn.scale[j]! + bn.shift[j]!)
      } else pendingBn = pendingBn ? composeAffine(pendingBn, bn) : bn
      return
    }
    if (step.op === 'norm') {
      flushAffine()
      const width = layers.length ? currentWidth() : undefined
      if (width === undefined) throw new ModelError(`${step.what} '${step.name}' comes before any Linear layer`, { where: file, hint: 'a LayerNorm/GroupNorm is supported after a Linear layer or on a residual sum' })
      const { norm, affine } = normActivation(step, width, tensors, used, file)
      applyToCurrent(norm, `${step.what} '${step.name}'`)
      // γ, β: folded into the next Linear where one follows, else per feature on chain
      pendingBn = affine
      return
    }
    if (step.op !== 'activation') return // conv/pool steps here were refused by buildTensorLayers
    flushAffine()
    applyToCurrent(step.activation, `activation ${describeActivation(step.activation)}`)
  }
  /** The width of the first Linear after the steps so far (a scalar buffer before any layer broadcasts to it). */
  const nextWidth = (): number => {
    const first = front.rest.find((st) => st.op === 'linear')
    return first?.op === 'linear' ? (tensors.get(`${first.name}.weight`)?.shape[1] ?? 1) : 1
  }
  front.rest.forEach(visit)
  flushAffine()
  // a model that ends in a normalised or activated sum: that value made a layer's output
  if (pending?.post) (pending = materialise(pending)), (pending = undefined)
  if (pendingEmbed) throw new ModelError('the model ends in an embedding concatenation', { where: file, hint: 'an nn.Embedding must be followed by a Linear' })
  if (pending) throw new ModelError(`the model returns ${describeInput(pending, valueName)}, a residual sum or concatenation`, { where: file, hint: 'ml2sc needs a Linear layer after a residual add or torch.cat (its output layer)' })
  if (pendingPrelu)
    throw new ModelError(`PReLU '${pendingPrelu.name}' (a slope per channel) ends the model`, { where: file, hint: 'a per-channel PReLU is supported between two Linear layers; nn.PReLU() with one slope anywhere' })
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
    const last = flatActivations(layer.activation).find((a) => a.kind === 'softmax' || a.kind === 'log_softmax')
    const post = layer.input?.post && flatActivations(layer.input.post).find((a) => a.kind === 'softmax' || a.kind === 'log_softmax')
    if ((last && l !== layers.length - 1 && !endsHead(layers, l, heads)) || post) throw new ModelError(`${(last ?? post)!.kind} is only supported on the last layer (found ${post ? 'on what' : 'after'} '${layer.name}'${post ? ' reads' : ''})`, { where: file })
  })
  // GRU/LSTM weights (`weight_ih_l0`, …) count too: a state_dict's recurrent layer is never dropped silently
  const unused = [...tensors.keys()].filter((k) => !used.has(k) && /\.(weight|bias)(_(ih|hh)_l\d+(_reverse)?)?$/.test(k))
  if (unused.length)
    throw new ModelError(`the state_dict has weights no declared layer uses: ${unused.slice(0, 5).join(', ')}`, { where: file, hint: 'declare every Linear in model.layers / model.source' })
  if (attention) return attentionModel(format, attention, layers, file, heads)
  if (recurrent) {
    const H = recurrent.hidden
    const joined = layers.find((l) => l.input && !(heads && l.input.op === 'concat' && !l.input.post))
    if (joined) throw new ModelError(`layer '${joined.name}' reads a residual sum, concatenation or skipped value after a ${recurrent.kind.toUpperCase()}`, { where: file, hint: 'residual adds and torch.cat are supported in dense models without a GRU/LSTM for now' })
    const width = readoutOf(recurrent).length * H
    if (layers[0]!.weight[0]!.length !== width)
      throw new ModelError(`Linear '${layers[0]!.name}' takes ${layers[0]!.weight[0]!.length} inputs but ${recurrent.kind.toUpperCase()} '${recurrent.name}' gives ${recurrent.readout ? `${readoutOf(recurrent).length} states of ${H}` : 'its last hidden state'} (${width})`, { where: file })
    return { format, inputSize: recurrent.steps * recurrent.features, inputShape: [recurrent.steps, recurrent.features], recurrent, layers, ...(heads ? { heads } : {}) }
  }
  if (front.tensorLayers.length) {
    if (embedded) throw new ModelError('an nn.Embedding in a convolutional model is not supported', { where: file })
    return { format, inputSize: front.tensorLayers[0]!.inShape.reduce((a, b) => a * b, 1), inputShape: [...inputShape!], tensorLayers: front.tensorLayers, layers, ...(heads ? { heads } : {}) }
  }
  if (embedded) {
    const again = layers.find((l) => l.input?.values.includes(0))
    if (again) throw new ModelError(`layer '${again.name}' reads the model's input again; with an nn.Embedding only the first Linear may read it`, { where: file })
    return { format, inputSize: embedded.inputSize, categorical: embedded.categorical, layers, ...(heads ? { heads } : {}) }
  }
  return { format, inputSize: layers[0]!.weight[0]!.length, layers, ...(heads ? { heads } : {}) }
}

/**
 * Whether layer `l`'s output is one of a multi-output model's heads and read by nothing else than the
 * `heads` layer: a softmax or log-softmax may end it (that head returns probabilities / log-probabilities).
 */
function endsHead(layers: DenseLayer[], l: number, heads: Head[] | undefined): boolean {
  const last = layers[layers.length - 1]!
  if (!heads || last.name !== HEADS_LAYER || !last.input?.values.includes(l + 1)) return false
  return layers.every((layer, k) => k === layers.length - 1 || k <= l || (layer.input ? !layer.input.values.includes(l + 1) : k !== l + 1))
}

/** A Linear applied at each of T steps ([B, T, in] → [B, T, out], then flattened): block-diagonal over T·in inputs. */
function perStepLinear(name: string, w: number[][], b: number[], T: number): DenseLayer {
  const [out, inp] = [w.length, w[0]!.length]
  const weight = Array.from({ length: T * out }, (_, r) => Array.from({ length: T * inp }, (_, c) => (Math.floor(c / inp) === Math.floor(r / out) ? w[r % out]![c % inp]! : 0)))
  return { name, weight, bias: Array.from({ length: T * out }, (_, r) => b[r % out]!), activation: { kind: 'identity' } }
}

/** `relu`, `leaky_relu(0.1)`, `hardtanh(0, 6)`, `gelu(tanh)`: the kind and its parameters. */
export function describeActivation(a: Activation): string {
  if (a.kind === 'gelu') return a.approximate === 'tanh' ? 'gelu(tanh)' : 'gelu'
  if (a.kind === 'layer_norm') return `${a.groups > 1 ? `group_norm(${a.groups}, ` : 'layer_norm('}eps ${a.eps}${a.gamma || a.beta ? ', affine' : ''})`
  if (a.kind === 'affine') return `batchnorm(${a.scale.length})`
  if (a.kind === 'seq') return a.ops.map(describeActivation).join(' → ')
  const params = Object.entries(a).flatMap(([k, v]) => (k === 'kind' ? [] : [String(v)]))
  return params.length ? `${a.kind}(${params.join(', ')})` : a.kind
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

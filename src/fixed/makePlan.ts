import { NumericsError } from '../errors/base.ts'
import { opOf, paramOf } from '../ir/ops/index.ts'
import type { ModelIR } from '../ir/types.ts'
import { graphReadsInput } from '../ir/tensorTypes.ts'
import { makeRecurrentPlan } from './makeRecurrentPlan.ts'
import { readoutOf } from '../ir/recurrentTypes.ts'
import { makeAttentionPlan } from './makeAttentionPlan.ts'
import { joinInput } from '../ir/layerInput.ts'
import { inputBoundAsValue } from './inputAsValue.ts'
import { makeTensorPlan } from './makeTensorPlan.ts'
import { quantize } from './quantize.ts'
import { shareLayers } from './shareLayers.ts'
import { expandInput, gatheredBound } from '../ir/categorical.ts'
import { graphPinOf, inputScaleOf, tensorPinOf, weightExponent, type LayerPlan, type Plan, type PlanPin, type PrecisionSpec } from './types.ts'

export { quantize }

const abs = (v: bigint) => (v < 0n ? -v : v)
const bitLength = (v: bigint) => abs(v).toString(2).length
const bytesFor = (maxAbs: bigint) => Math.ceil((bitLength(maxAbs) + 1) / 8)


/** round(x · 2^e · scale): the binary path is exact; a decimal scale multiplies in float first. */
function quantizeAt(x: number, e: number, scale: { F: number; decimals?: number }): bigint {
  return scale.decimals === undefined ? quantize(x, e + scale.F) : quantize(x * 10 ** scale.decimals, e)
}

/** A width the deployed contract fixed: the new value must fit it. */
function pinned(what: string, need: number, have?: number): number {
  if (have === undefined) return need
  if (need > have) throw new NumericsError(`the new weights need ${need}-byte ${what}s; the deployed contract has ${have}`, { hint: 'deploy the new model with `ml2sc run`' })
  return have
}

/** Human form of the activation scale: `2^20` or `10^18`. */
export const scaleText = (p: { F: number; decimals?: number }) => (p.decimals === undefined ? `2^${p.F}` : `10^${p.decimals}`)

/**
 * The fixed-point plan: per-layer weight scales calibrated from the weights' range so that every weight
 * fits its storage width, rounding folded into the bias, SIMD lane widths and the safe input range from
 * interval analysis (so no accumulator can ever overflow its lane).
 */
export function makePlan(model: ModelIR, p: PrecisionSpec, pin?: PlanPin): Plan {
  const decimals = p.decimals
  const F = decimals === undefined ? p.fraction : decimals * Math.log2(10)
  const scale = decimals === undefined ? 1n << BigInt(F) : 10n ** BigInt(decimals)
  const slopeBits = decimals === undefined ? F : 32
  const at = { F, decimals }
  // inputs at their own binary scale 2^Fin: the first layer (a CNN's first conv) accumulates at 2^(s+Fin)
  // and shifts back to 2^F (a CNN whose stack starts with a pool keeps its inputs at the activation scale)
  const cnn = (model.tensorLayers?.length ?? 0) > 0
  // (a residual add or second branch that reads the input itself keeps the input at the activation scale too: ops/tensorJoin.ts)
  // a sequence model's inputs are at the activation scale, signed (the recurrence adds them to its state)
  const ownScale = !model.recurrent && !model.attention && (!cnn || (model.tensorLayers![0]!.kind === 'conv' && !graphReadsInput(model.tensorLayers!)))
  const inputFraction = ownScale && decimals === undefined && p.inputFraction !== undefined && p.inputFraction !== F ? p.inputFraction : undefined
  const unsigned = ownScale && p.inputUnsigned === true
  const inputLift = weightExponent({ F, decimals, inputFraction }, 0, 0)
  const lift = (l: number) => (cnn ? 0 : weightExponent({ F, decimals, inputFraction }, l, 0))
  const widths = layerWidths(model, p)
  // int4 weights (nibbles in the blob) are for dense layers (an nn.Embedding's gather reads nibble fields too):
  // the conv, recurrent and attention kernels read whole bytes
  if (Math.min(p.weightBytes, ...widths.all) < 1 && ((model.tensorLayers?.length ?? 0) > 0 || model.recurrent || model.attention))
    throw new NumericsError(`int4 weights are for dense (Linear) layers only; this model has ${model.recurrent ? 'a GRU/LSTM' : model.attention ? 'an attention' : 'a convolutional'} layer`, { where: 'precision.weights', hint: 'use precision.weights: int8 or wider' })
  const wMaxQ = (1n << BigInt(8 * widths.widest - 1)) - 1n
  const wMaxOf = (bytes: number) => (1n << BigInt(8 * bytes - 1)) - 1n
  const inputMax = (1n << BigInt(8 * p.inputBytes - (unsigned ? 0 : 1))) - 1n
  const inputMin = unsigned ? 0n : -inputMax - 1n
  // a convolutional model's conv/pool stack first (makeTensorPlan.ts): its output bounds start the dense analysis
  const front = makeTensorPlan(model, { wMaxQ, F, decimals, scale, slopeBits, inputAbsMax: unsigned ? inputMax : -inputMin, inputLift, inputFraction, ...(widths.mixed ? { convWidths: widths.conv } : {}) }, pin?.tensor)
  // a deployed CNN (predict, verify, an update): its conv scales and lanes are in the contract's code
  if (pin && front.tensorLayers.length && tensorPinOf(front.tensorLayers) !== pin.tensor)
    throw new NumericsError('the new weights of this convolutional model need other conv scales or lanes, or other wiring (what each layer reads), than the deployed contract has', { hint: 'deploy the new model with `ml2sc run`' })
  // a deployed sequence model's code fixes its GRU/LSTM; an MLP or a CNN cannot take its place, nor the reverse
  const pinnedRecurrent = pin?.tensor !== undefined && /^\["(gru|lstm)"|^\[\["(gru|lstm)"/.test(pin.tensor)
  const pinnedAttention = pin?.tensor !== undefined && pin.tensor.startsWith('["mha"')
  if (pin && pinnedAttention !== !!model.attention)
    throw new NumericsError(`the new model ${model.attention ? 'has' : 'has no'} attention layer; the deployed contract ${pinnedAttention ? 'has' : 'has none'}`, { hint: 'deploy the new model with `ml2sc run`' })
  const attention = model.attention ? makeAttentionPlan(model.attention, { wMaxQ, F, scale, inputAbsMax: -inputMin, weightBytes: p.weightBytes }, pin?.tensor) : undefined
  if (pin && pinnedRecurrent !== !!model.recurrent)
    throw new NumericsError(`the new model ${model.recurrent ? 'has' : 'has no'} GRU/LSTM layer; the deployed contract ${pinnedRecurrent ? 'has' : 'has none'}`, { hint: 'deploy the new model with `ml2sc run`' })
  const recurrent = model.recurrent
    ? makeRecurrentPlan(model.recurrent, { wMaxQ, F, scale, inputAbsMax: -inputMin, weightBytes: p.weightBytes }, pin?.tensor)
    : undefined
  // a deployed graph model: its contract builds the sums and concats it was generated for
  // the first layer reads the input itself: a join or an op on it there would be skipped by the plan and the contract
  if (model.layers[0]?.input)
    throw new NumericsError(`layer '${model.layers[0].name}' reads a sum, concatenation or normalised value before any Linear layer: not supported on chain`, { hint: 'put a Linear layer first' })
  if (pin && graphPinOf(model.layers) !== pin.graph)
    throw new NumericsError('the new model reads its layers in another graph shape (residual adds, concats) or has other norm constants (LayerNorm/BatchNorm ε, γ, β, in the code) than the deployed contract', { hint: 'deploy the new model with `ml2sc run`' })
  if (pin && (model.categorical ? JSON.stringify(model.categorical) : undefined) !== pin.categorical)
    throw new NumericsError('the new model has other nn.Embedding columns than the deployed contract', { hint: 'deploy the new model with `ml2sc run`' })
  // nn.Embedding columns: every index must fit the calldata width; the layer reads one category of each (a one-hot entry, 1.0)
  const S = inputScaleOf({ scale, decimals, inputFraction })
  for (const cat of model.categorical ?? [])
    if (BigInt(cat.count - 1) * S > inputMax)
      throw new NumericsError(`embedding '${cat.name}' has ${cat.count} categories: index ${cat.count - 1} at the input scale ${S} does not fit int${8 * p.inputBytes} inputs`, { hint: 'choose wider precision.inputs or a smaller input fraction' })
  const xIn = expandInput(front.xMax, model.categorical, S, S, () => 0)
  // bounds on every value so far (graph models: a skip, a residual sum (bounds add), a concat (bounds concatenate))
  const firstMax: bigint[] = attention ? (attention.pool === 'flatten' ? Array.from({ length: attention.tokens }, () => attention.outMax).flat() : attention.outMax) : recurrent ? new Array<bigint>(readoutOf(recurrent).length * recurrent.hidden).fill(recurrent.hMax) : xIn
  const valueMax: bigint[][] = [recurrent || attention || cnn ? firstMax : inputBoundAsValue({ F, decimals, inputFraction }, xIn)]
  const layers: LayerPlan[] = model.layers.map((layer, l) => {
    // an activation or norm on a join: its overflow check on the joined bounds, then its interval rule
    const postRule = (v: bigint[], a: typeof layer.activation) => {
      const op = opOf(a)
      const q = paramOf(a, { scale, slopeBits })
      const problem = op.check?.(v.reduce((m, x) => (x > m ? x : m), 0n), a, q, { scale, slopeBits })
      if (problem) throw new NumericsError(`the input of layer '${layer.name}': ${problem}`, { hint: 'use a narrower precision.inputs or precision.weights' })
      return v.map((p) => op.bound(p, a, q, { scale, slopeBits }))
    }
    const xMax = l === 0 ? firstMax : joinInput(layer.input, l, valueMax, (a, b) => a + b, postRule)
    const nOut = layer.weight.length
    const nIn = layer.weight[0]!.length
    const wb = widths.dense[l]!
    const wMaxQ = wMaxOf(wb)
    const wAbsMax = Math.max(...layer.weight.flat().map(Math.abs))
    // largest s with round(wAbsMax · 2^s) ≤ wMaxQ; capped so tiny weights don't ask for absurd shifts
    // (an all-zero layer is just its biases: any shift ≥ 1 will do)
    // e: the weights' scale exponent; s: the accumulator's shift back to 2^F (they differ by `lift` in layer 0)
    let e = wAbsMax === 0 ? 1 : Math.floor(Math.log2(Number(wMaxQ) / wAbsMax))
    while (e > 0 && abs(quantize(wAbsMax, e)) > wMaxQ) e--
    e = Math.min(e, 64 + lift(l))
    let s = e - lift(l)
    if (pin) {
      // an update: the deployed contract shifts by its own scale; the new weights must fit at it
      s = pin.wShift[l]!
      e = s + lift(l)
      if (abs(quantize(wAbsMax, e)) > wMaxQ)
        throw new NumericsError(`the new weights of layer '${layer.name}' reach ${wAbsMax}, beyond what the deployed contract holds (int${8 * wb} at scale 2^${e})`, {
          hint: 'deploy the new model with `ml2sc run`',
        })
    }
    if (s < 1)
      throw new NumericsError(`weights of layer '${layer.name}' reach ${wAbsMax}, too large for int${8 * wb}${lift(l) ? ` with inputs at 2^${p.inputFraction}` : ''}`, {
        hint: lift(l) ? 'choose a wider precision.weights or precision.inputs: auto' : 'choose a wider precision.weights',
      })
    const weights = layer.weight.map((row) => row.map((w) => quantize(w, e)))
    const half = 1n << BigInt(s - 1)
    const biases = layer.bias.map((b) => quantizeAt(b, s, at) + half)
    // nn.Embedding columns: one category of each is read (gathered), so the bound takes its block's largest term
    const accs = weights.map((row, j) => (l === 0 && model.categorical ? gatheredBound(row, xMax, biases[j]!, model.inputSize, model.categorical) : row.reduce((acc, w, i) => acc + abs(w) * xMax[i]!, abs(biases[j]!))))
    const accMax = accs.reduce((a, b) => (a > b ? a : b), 0n)
    const act = layer.activation
    const op = opOf(act)
    const slopeQ = paramOf(act, { scale, slopeBits })
    // |acc >> s| ≤ (a >> s) + 1; the op's interval rule (ir/ops) bounds its output from there
    const outMax = accs.map((a) => op.bound((a >> BigInt(s)) + 1n, act, slopeQ, { scale, slopeBits }))
    // lanes sit a whole number of weight fields apart (the kernel's interleaved blob: see weightBlob.ts)
    const field = 8 * wb
    const needBits = field * Math.ceil((bitLength(accMax) + 1) / field)
    if (pin && needBits > pin.laneBits[l]!)
      throw new NumericsError(`the new weights of layer '${layer.name}' need ${needBits}-bit lanes; the deployed contract has ${pin.laneBits[l]}`, { hint: 'deploy the new model with `ml2sc run`' })
    const laneBits = pin ? pin.laneBits[l]! : needBits
    if (laneBits > 256) throw new NumericsError(`layer '${layer.name}' could overflow 256 bits`, { hint: 'use a narrower precision.inputs or precision.weights' })
    const problem = op.check?.((accMax >> BigInt(s)) + 1n, act, slopeQ, { scale, slopeBits })
    if (problem) throw new NumericsError(`layer '${layer.name}': ${problem}`, { hint: 'use a narrower precision.inputs or precision.weights' })
    const lanes = pin ? pin.lanes[l]! : Math.max(1, Math.min(Math.floor(256 / laneBits), nOut))
    valueMax.push(outMax)
    return { name: layer.name, nIn, nOut, wShift: s, weights, biases, activation: act, slopeQ, laneBits, lanes, accMax, outMax, ...(layer.input ? { input: layer.input } : {}), ...(widths.mixed ? { weightBytes: wb } : {}) }
  })
  // a module applied several times: stored once, one lane layout for its uses (a dense model's blob only)
  if (!cnn && !recurrent && !attention) shareLayers(layers, model.layers.map((l) => l.shares), pin ? (pin.shares ?? []) : undefined)
  const biasMax = [...layers.flatMap((l) => l.biases), ...front.tensorLayers.flatMap((t) => (t.kind === 'conv' ? t.biases : [])), ...(recurrent?.blocks.flatMap((b) => b.biases) ?? []), ...(attention?.blocks.flatMap((b) => b.biases) ?? [])].reduce((a, b) => (abs(b) > a ? abs(b) : a), 0n)
  const biasBytes = pinned('bias', bytesFor(biasMax), pin?.biasBytes)
  const outMax = layers[layers.length - 1]!.outMax.reduce((a, b) => (a > b ? a : b), 0n)
  // a negative output is at most as far from zero as outMax, so the same width holds it
  return {
    F,
    scale,
    ...(decimals === undefined ? {} : { decimals }),
    slopeBits,
    weightBytes: widths.widest,
    biasBytes,
    inputBytes: p.inputBytes,
    ...(inputFraction === undefined ? {} : { inputFraction }),
    ...(unsigned ? { inputUnsigned: true as const } : {}),
    outputBytes: pinned('output', bytesFor(outMax), pin?.outputBytes),
    inputMin,
    inputMax,
    ...(front.tensorLayers.length ? { inputShape: model.inputShape, tensorLayers: front.tensorLayers } : {}),
    ...(recurrent ? { inputShape: model.inputShape, recurrent } : {}),
    ...(model.categorical ? { categorical: model.categorical } : {}),
    ...(attention ? { inputShape: model.inputShape, attention } : {}),
    layers,
    inputSize: model.inputSize,
    outputSize: layers[layers.length - 1]!.nOut,
    ...(model.heads ? { heads: model.heads } : {}),
  }
}

/**
 * Each weighted layer's width (PrecisionSpec.layerWeightBytes: the conv layers of the stack, then the dense
 * layers), else every layer at p.weightBytes. `mixed`: the widths differ (each layer's plan then carries its own).
 */
function layerWidths(model: ModelIR, p: PrecisionSpec): { conv: number[]; dense: number[]; all: number[]; widest: number; mixed: boolean } {
  const nConv = (model.tensorLayers ?? []).filter((t) => t.kind === 'conv').length
  const given = p.layerWeightBytes
  if (given && given.length !== nConv + model.layers.length)
    throw new NumericsError(`precision.weights gives ${given.length} layer width(s); the model has ${nConv + model.layers.length} weighted layer(s)`, { where: 'precision.weights', hint: `give one width per weighted layer (${weightedLayerNames(model).join(', ')})` })
  const all = given ?? new Array<number>(nConv + model.layers.length).fill(p.weightBytes)
  const mixed = new Set(all).size > 1
  if (mixed && (model.recurrent || model.attention))
    throw new NumericsError(`per-layer weight widths are for dense and conv layers; this model has ${model.recurrent ? 'a GRU/LSTM' : 'an attention'} layer`, { where: 'precision.weights', hint: 'give one width for the whole model' })
  return { conv: all.slice(0, nConv), dense: all.slice(nConv), all, widest: given ? Math.max(...all) : p.weightBytes, mixed }
}

/** The weighted layers' names, in the order of PrecisionSpec.layerWeightBytes (conv layers, then dense layers). */
export const weightedLayerNames = (model: ModelIR): string[] => [...(model.tensorLayers ?? []).flatMap((t) => (t.kind === 'conv' ? [t.name] : [])), ...model.layers.map((l) => l.name)]

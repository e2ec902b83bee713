import { NumericsError } from '../errors/base.ts'
import { opOf, paramOf } from '../ir/ops/index.ts'
import { isJoin, tensorInputOf, type ConvLayer, type JoinLayer, type PoolLayer } from '../ir/tensorTypes.ts'
import { joinBound, joinCheck } from '../ir/ops/tensorJoin.ts'
import type { Activation, ModelIR } from '../ir/types.ts'
import { quantize } from './quantize.ts'
import { AVG_SHIFT, type ConvPlan, type JoinPlan, type PoolPlan, type TensorLayerPlan } from './tensorPlanTypes.ts'
import { gridOf } from '../ir/window.ts'

const abs = (v: bigint) => (v < 0n ? -v : v)
const bitLength = (v: bigint) => abs(v).toString(2).length
const maxOf = (xs: bigint[]) => xs.reduce((a, b) => (a > b ? a : b), 0n)

export type TensorPlanArgs = {
  /** Largest stored weight, 2^(8·weightBytes−1) − 1. */
  wMaxQ: bigint
  F: number
  decimals?: number
  scale: bigint
  slopeBits: number
  /** Largest |input| in fixed-point units. */
  inputAbsMax: bigint
  /** F − Fin when inputs have their own scale 2^Fin: the first conv's weights sit at 2^(wShift + inputLift). */
  inputLift?: number
  inputFraction?: number
  /** Per-layer weight widths (a mixed plan): each conv's bytes per weight, in stack order; every ConvPlan then carries its own. */
  convWidths?: number[]
}

/**
 * The fixed-point plan of a convolutional model's conv/pool stack: weights quantised per conv at the
 * largest scale that fits the storage width (as dense layers), the rounding half-ulp folded into the
 * biases, and interval analysis per channel (every tap of every window counted, padding included, so the
 * bound holds at every position). Returns the layer plans and the per-element bound on the flattened
 * output, where the dense layers' analysis (makePlan) continues. An MLP gives no layers and the input bound.
 */
export function makeTensorPlan(model: ModelIR, a: TensorPlanArgs, pin?: string): { tensorLayers: TensorLayerPlan[]; xMax: bigint[] } {
  const stack = model.tensorLayers ?? []
  if (!stack.length) return { tensorLayers: [], xMax: new Array<bigint>(model.inputSize).fill(a.inputAbsMax) }
  // an update of a deployed CNN: each conv keeps the contract's scale and lanes (PlanPin.tensor, tensorPinOf)
  const pins = pin === undefined ? undefined : (JSON.parse(pin) as (ConvPin | string)[])
  if (pins && pins.length !== stack.length)
    throw new NumericsError(`the new model has ${stack.length} conv/pool layers; the deployed contract has ${pins.length}`, { hint: 'deploy the new model with `ml2sc run`' })
  // per value (0 the input, k layer k−1's output): the largest |value| of each channel
  const chMaxes: bigint[][] = [new Array<bigint>(model.inputShape![0]!).fill(a.inputAbsMax)]
  let conv = 0
  const tensorLayers = stack.map((layer, l): TensorLayerPlan => {
    const p = pins?.[l]
    if (pins && (layer.kind === 'conv') !== Array.isArray(p))
      throw new NumericsError(`layer ${l + 1} of the new model is a ${layer.kind}; the deployed contract has a ${Array.isArray(p) ? 'conv' : p}`, { hint: 'deploy the new model with `ml2sc run`' })
    const chMax = chMaxes[tensorInputOf(layer, l)]!
    // a mixed plan: each conv at its own weight width
    const wb = layer.kind === 'conv' ? a.convWidths?.[conv++] : undefined
    const at = wb === undefined ? a : { ...a, wMaxQ: (1n << BigInt(8 * wb - 1)) - 1n }
    const plan =
      isJoin(layer)
        ? planJoin(layer, chMaxes, a)
        : layer.kind === 'conv'
          ? planConv(layer, chMax, at, p as ConvPin | undefined, l === 0 ? (a.inputLift ?? 0) : 0)
          : planPool(layer, chMax, a)
    if (wb !== undefined && plan.kind === 'conv') plan.weightBytes = wb
    chMaxes.push(plan.outMax)
    return plan
  })
  const last = stack[stack.length - 1]!.outShape
  const per = last.slice(1).reduce((x, y) => x * y, 1)
  return { tensorLayers, xMax: chMaxes[chMaxes.length - 1]!.flatMap((m) => new Array<bigint>(per).fill(m)) }
}

/** A residual add or channel concat: the join's interval rule on the values it reads, then the activation's (ir/ops/tensorJoin.ts). */
function planJoin(layer: JoinLayer, chMaxes: bigint[][], a: TensorPlanArgs): JoinPlan {
  const act = layer.activation
  const slopeQ = paramOf(act, a)
  const joined = joinBound(layer.kind, layer.values.map((v) => chMaxes[v]!))
  const problem = joinCheck(joined) ?? opOf(act).check?.(maxOf(joined), act, slopeQ, a)
  if (problem) throw new NumericsError(`${layer.kind === 'add' ? 'residual add' : 'torch.cat'} '${layer.name}': ${problem}`, { hint: 'use a narrower precision.inputs or precision.weights' })
  const { activation: _a, ...rest } = layer
  return { ...rest, values: [...layer.values], activation: act, slopeQ, outMax: joined.map((m) => activationBound(m, act, slopeQ, a)) }
}

function activationBound(pre: bigint, act: Activation, slopeQ: bigint, a: TensorPlanArgs): bigint {
  return opOf(act).bound(pre, act, slopeQ, a)
}

/** A deployed conv's [wShift, laneBits, lanes] (tensorPinOf in types.ts). */
type ConvPin = [number, number, number]

/**
 * `lift` (the first conv, inputs at their own scale 2^Fin): F − Fin. The weights are quantised at
 * e = wShift + lift, so wq·xq is at 2^(wShift+F) as in every other conv and the same SAR by wShift lands at 2^F.
 */
function planConv(layer: ConvLayer, chMax: bigint[], a: TensorPlanArgs, pin: ConvPin | undefined, lift: number): ConvPlan {
  const wAbsMax = Math.max(...layer.weight.map(Math.abs))
  let e = wAbsMax === 0 ? 1 : Math.floor(Math.log2(Number(a.wMaxQ) / wAbsMax))
  while (e > 0 && abs(quantize(wAbsMax, e)) > a.wMaxQ) e--
  e = Math.min(e, 64 + lift)
  let s = e - lift
  if (pin) {
    // the deployed contract shifts by its own scale: the new weights must fit at it
    s = pin[0]
    e = s + lift
    if (abs(quantize(wAbsMax, e)) > a.wMaxQ)
      throw new NumericsError(`the new weights of conv '${layer.name}' reach ${wAbsMax}, beyond what the deployed contract holds at scale 2^${e}`, { hint: 'deploy the new model with `ml2sc run`' })
  }
  if (s < 1)
    throw new NumericsError(`weights of conv '${layer.name}' reach ${wAbsMax}, too large for the weight width${lift ? ` with inputs at 2^${a.inputFraction}` : ''}`, {
      hint: lift ? 'choose a wider precision.weights or precision.inputs: auto' : 'choose a wider precision.weights',
    })
  const weights = layer.weight.map((w) => quantize(w, e))
  const half = 1n << BigInt(s - 1)
  const biases = layer.bias.map((b) => (a.decimals === undefined ? quantize(b, s + a.F) : quantize(b * 10 ** a.decimals, s)) + half)
  const g = gridOf(layer)
  const inPer = g.inC / layer.groups
  const outPer = g.outC / layer.groups
  const kArea = g.kH * g.kW
  const accs = biases.map((bq, o) => {
    let acc = abs(bq)
    const c0 = Math.floor(o / outPer) * inPer
    for (let c = 0; c < inPer; c++) for (let t = 0; t < kArea; t++) acc += abs(weights[(o * inPer + c) * kArea + t]!) * chMax[c0 + c]!
    return acc
  })
  const accMax = maxOf(accs)
  const act = layer.activation
  const slopeQ = paramOf(act, a)
  const outMax = accs.map((acc) => activationBound((acc >> BigInt(s)) + 1n, act, slopeQ, a))
  const needBits = 8 * Math.ceil((bitLength(accMax) + 1) / 8)
  if (pin && needBits > pin[1])
    throw new NumericsError(`the new weights of conv '${layer.name}' need ${needBits}-bit lanes; the deployed contract has ${pin[1]}`, { hint: 'deploy the new model with `ml2sc run`' })
  const laneBits = pin ? pin[1] : needBits
  if (laneBits > 256) throw new NumericsError(`conv '${layer.name}' could overflow 256 bits`, { hint: 'use a narrower precision.inputs or precision.weights' })
  const problem = opOf(act).check?.((accMax >> BigInt(s)) + 1n, act, slopeQ, a)
  if (problem) throw new NumericsError(`conv '${layer.name}': ${problem}`, { hint: 'use a narrower precision.inputs or precision.weights' })
  const lanes = pin ? pin[2] : Math.max(1, Math.min(Math.floor(256 / laneBits), g.outC))
  const { kind: _k, weight: _w, bias: _b, ...geo } = layer
  return { ...geo, kind: 'conv', wShift: s, weights, biases, activation: act, slopeQ, laneBits, lanes, accMax, outMax }
}

function planPool(layer: PoolLayer, chMax: bigint[], a: TensorPlanArgs): PoolPlan {
  const act = layer.activation
  const slopeQ = paramOf(act, a)
  // max: one of the inputs; average: |sum·R| ≤ |x|max·2^AVG_SHIFT·(1 + 2^-AVG_SHIFT·n), +1 for the rounding
  if (layer.kind === 'avgpool' && bitLength(maxOf(chMax)) + Number(AVG_SHIFT) + 2 > 255)
    throw new NumericsError(`average pool '${layer.name}' could overflow 256 bits`, { hint: 'use a narrower precision.inputs or precision.weights' })
  const outMax = chMax.map((m) => activationBound(layer.kind === 'avgpool' ? m + 1n : m, act, slopeQ, a))
  const { activation: _a, ...rest } = layer
  return { ...rest, activation: act, slopeQ, outMax }
}

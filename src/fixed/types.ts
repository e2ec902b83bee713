import type { Activation, Head, LayerInput } from '../ir/types.ts'
import { recurrentPinOf, type RecurrentPlan } from './recurrentPlanTypes.ts'
import { attentionPinOf, type AttentionPlan } from './attentionPlanTypes.ts'
import type { TensorLayerPlan } from './tensorPlanTypes.ts'
import type { CategoricalInput } from '../ir/categorical.ts'

/** How one dense layer is laid out and computed in fixed point. */
export type LayerPlan = {
  name: string
  nIn: number
  nOut: number
  /**
   * The SAR applied to the accumulator, back to the activation scale. Also the weight scale exponent,
   * wq = round(w · 2^wShift), except in the first layer when inputs have their own scale 2^Fin: there
   * wq = round(w · 2^(wShift + F − Fin)) (see `weightExponent`).
   */
  wShift: number
  /** wq[out][in] */
  weights: bigint[][]
  /** bq = round(b · 2^(wShift+F)) + 2^(wShift-1): the half-ulp makes the SAR round to nearest. */
  biases: bigint[]
  activation: Activation
  /** round(slope · 2^F) for leaky_relu, else 0. */
  slopeQ: bigint
  /** SIMD: bits per lane and lanes per 256-bit word (one MUL does `lanes` multiply-accumulates). */
  laneBits: number
  lanes: number
  /** Largest |accumulator| and largest |output| over the safe input range (interval analysis). */
  accMax: bigint
  outMax: bigint[]
  /** A graph model: what this layer reads when it is not the previous layer's output (ir/layerInput.ts). */
  input?: LayerInput
  /** A module applied again: the earlier layer whose stored weights (lane groups, blob bytes) this one reads (shareLayers.ts). */
  shares?: number
  /** Per-layer weight widths (a mixed plan): this layer's bytes per stored weight. Absent: the plan's `weightBytes`. */
  weightBytes?: number
}

export type Plan = {
  /**
   * log2 of the activation scale: the exponent of 2^F for a binary scale; for a decimal scale 10^d it is
   * d·log2(10), good for display and float conversion only. Exact arithmetic uses `scale`.
   */
  F: number
  /** The activation scale as an integer: 2^F, or 10^d when `decimals` is set. */
  scale: bigint
  decimals?: number
  /** Leaky-ReLU slopes are quantised at 2^slopeBits (F for a binary scale, 32 for a decimal one). */
  slopeBits: number
  /**
   * Bytes per stored weight (the widest layer's when the widths are per layer: see layerWeightBytes), per
   * stored bias, per input in calldata, per output in the Predictions event.
   */
  weightBytes: number
  biasBytes: number
  inputBytes: number
  outputBytes: number
  /**
   * Binary scales only: inputs in calldata are at 2^inputFraction, apart from the activation scale 2^F
   * (narrower calldata). Absent: inputs are at the activation scale (2^F or 10^d).
   */
  inputFraction?: number
  /** Inputs are unsigned in calldata (every test feature ≥ 0): one more bit of precision; the safe range starts at 0. */
  inputUnsigned?: true
  /** Inputs must lie in [inputMin, inputMax] (fixed-point units at the input scale); proven safe by interval analysis. */
  inputMin: bigint
  inputMax: bigint
  /** Convolutional models: the input tensor's shape and the conv/pool layers before the flatten (tensorPlanTypes.ts). */
  inputShape?: number[]
  tensorLayers?: TensorLayerPlan[]
  /** Sequence models: the GRU/LSTM before the dense layers (recurrentPlanTypes.ts); inputShape is then [T, F]. */
  recurrent?: RecurrentPlan
  /** nn.Embedding columns (ir/categorical.ts): the contract checks each index and gathers its folded weight column; layers[0]'s weights are in the expanded layout. */
  categorical?: CategoricalInput[]
  /** Sequence models: self-attention before the dense layers (attentionPlanTypes.ts); inputShape is then [T, E]. */
  attention?: AttentionPlan
  layers: LayerPlan[]
  /** Features per row in calldata (the CSV's feature columns). */
  inputSize: number
  outputSize: number
  /** A multi-output model: the outputs are these heads' one after another (ir/heads.ts). Absent: one output. */
  heads?: Head[]
}

/**
 * The parts of a deployed plan that its contract's code depends on. New weights for that contract (an
 * update) are quantised at these, and refused if they do not fit.
 */
export type PlanPin = {
  wShift: number[]
  laneBits: number[]
  lanes: number[]
  biasBytes: number
  outputBytes: number
  /** A convolutional model: its conv layers' scales and lanes (tensorPinOf), which the contract's code fixes too. */
  tensor?: string
  /** A graph model: which values each layer reads (graphPinOf): the contract's code builds those sums and concats. */
  graph?: string
  /** nn.Embedding columns (their checks and gathers are in the contract's code). */
  categorical?: string
  /** Per layer, the earlier layer whose stored weights it reads (a module applied again), else null. */
  shares?: (number | null)[]
}

/**
 * What a contract's code fixes of a graph model's shape: each layer's input (absent for a chain); and where a
 * layer's activation carries norm constants in the code (LayerNorm ε, γ, β; a standalone BatchNorm), those too.
 */
export function graphPinOf(layers: { input?: LayerInput; activation?: Activation }[]): string | undefined {
  const inputs = layers.some((l) => l.input) ? JSON.stringify(layers.map((l) => l.input ?? null)) : undefined
  if (!layers.some((l) => /"kind":"(layer_norm|affine)"/.test(JSON.stringify(l.activation ?? null)))) return inputs
  return JSON.stringify({ inputs: layers.map((l) => l.input ?? null), activations: layers.map((l) => l.activation ?? null) })
}

/**
 * What a contract's code fixes of a conv/pool stack: each conv's weight scale and lanes; in a graph, also what
 * each layer reads (a conv's or pool's earlier value, a join's values: `add(3,1)`), so an update cannot rewire it.
 */
export const tensorPinOf = (layers: TensorLayerPlan[]): string =>
  JSON.stringify(layers.map((l) => (l.kind === 'conv' ? [l.wShift, l.laneBits, l.lanes, ...(l.from !== undefined ? [l.from] : [])] : 'values' in l ? `${l.kind}(${l.values.join(',')})` : l.from !== undefined ? `${l.kind}<${l.from}` : l.kind)))

export const pinOf = (plan: Plan): PlanPin => ({
  ...(plan.tensorLayers?.length ? { tensor: tensorPinOf(plan.tensorLayers) } : {}),
  ...(plan.recurrent ? { tensor: recurrentPinOf(plan.recurrent) } : {}),
  ...(plan.attention ? { tensor: attentionPinOf(plan.attention) } : {}),
  ...(graphPinOf(plan.layers) ? { graph: graphPinOf(plan.layers) } : {}),
  ...(plan.categorical ? { categorical: JSON.stringify(plan.categorical) } : {}),
  ...(plan.layers.some((l) => l.shares !== undefined) ? { shares: plan.layers.map((l) => l.shares ?? null) } : {}),
  wShift: plan.layers.map((l) => l.wShift),
  laneBits: plan.layers.map((l) => l.laneBits),
  lanes: plan.layers.map((l) => l.lanes),
  biasBytes: plan.biasBytes,
  outputBytes: plan.outputBytes,
})

export type PrecisionSpec = {
  /** Binary activation scale 2^fraction (ignored when `decimals` is set). */
  fraction: number
  /** Decimal activation scale 10^decimals (PRBMath / ML2SC compatible). */
  decimals?: number
  weightBytes: number
  /**
   * Per-layer weight widths in bytes (0.5 is int4), one per weighted layer: the conv layers of a CNN's
   * stack first, then the dense layers (weightedLayerNames). Absent: every layer at `weightBytes`.
   */
  layerWeightBytes?: number[]
  inputBytes: number
  /** Binary input scale 2^inputFraction (default: the activation scale); ignored when `decimals` is set. */
  inputFraction?: number
  /** Unsigned calldata inputs (MLPs only). */
  inputUnsigned?: boolean
}

/** The scale of the inputs in calldata: 2^inputFraction, else the activation scale. */
export const inputScaleOf = (p: Pick<Plan, 'scale' | 'decimals' | 'inputFraction'>): bigint =>
  p.decimals === undefined && p.inputFraction !== undefined ? 1n << BigInt(p.inputFraction) : p.scale

/** The exponent the weights of layer `l` are quantised at (the first layer's differs when inputs have their own scale). */
export const weightExponent = (p: Pick<Plan, 'F' | 'decimals' | 'inputFraction'>, l: number, wShift: number): number =>
  l === 0 && p.decimals === undefined && p.inputFraction !== undefined ? wShift + p.F - p.inputFraction : wShift

/** Bytes per stored weight of dense layer `l` (its own width in a mixed plan). */
export const layerWeightBytes = (plan: Pick<Plan, 'weightBytes' | 'layers'>, l: number): number => plan.layers[l]?.weightBytes ?? plan.weightBytes

/** Each weighted layer's width in bytes, in the order of PrecisionSpec.layerWeightBytes (conv layers, then dense). */
export const weightWidthsOf = (plan: Pick<Plan, 'weightBytes' | 'layers' | 'tensorLayers'>): number[] => [
  ...(plan.tensorLayers ?? []).flatMap((t) => (t.kind === 'conv' ? [t.weightBytes ?? plan.weightBytes] : [])),
  ...plan.layers.map((_, l) => layerWeightBytes(plan, l)),
]

/** The weighted layers' names, in the order of weightWidthsOf (conv layers, then dense). */
export const weightedNamesOf = (plan: Pick<Plan, 'layers' | 'tensorLayers'>): string[] => [...(plan.tensorLayers ?? []).flatMap((t) => (t.kind === 'conv' ? [t.name] : [])), ...plan.layers.map((l) => l.name)]

/** Whether the layers' weight widths differ (a mixed plan). */
export const isMixedWidth = (plan: Pick<Plan, 'weightBytes' | 'layers' | 'tensorLayers'>): boolean => new Set(weightWidthsOf(plan)).size > 1

/** The precision a plan was made with: makePlan(model, specOf(plan)) quantises the model at the plan's scales and widths. */
export const specOf = (plan: Plan): PrecisionSpec => ({
  fraction: plan.F,
  decimals: plan.decimals,
  weightBytes: plan.weightBytes,
  ...(isMixedWidth(plan) ? { layerWeightBytes: weightWidthsOf(plan) } : {}),
  inputBytes: plan.inputBytes,
  inputFraction: plan.inputFraction,
  inputUnsigned: plan.inputUnsigned,
})

/** `int8`, or `int8/int16/int8` for a mixed plan (every weighted layer's width, in order). */
export const weightWidthText = (plan: Pick<Plan, 'weightBytes' | 'layers' | 'tensorLayers'>): string =>
  isMixedWidth(plan) ? weightWidthsOf(plan).map((b) => `int${8 * b}`).join('/') : `int${8 * plan.weightBytes}`

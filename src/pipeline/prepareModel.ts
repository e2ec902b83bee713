import path from 'node:path'
import type { Config } from '../config/types.ts'
import { chunkSizeFor, type GenerateOptions, type WeightLayout } from '../codegen/generateSolidity.ts'
import { ConfigError } from '../errors/base.ts'
import { makePlan, weightedLayerNames } from '../fixed/makePlan.ts'
import { pinOf, specOf, type Plan } from '../fixed/types.ts'
import { narrowLayers, type NarrowOptions } from './narrowLayers.ts'
import { taskOf } from '../ir/taskOf.ts'
import type { ModelIR, Task } from '../ir/types.ts'
import { loadModel } from '../model/loadModel.ts'
import { chooseInputs, type FeatureRange } from './autoInputs.ts'
import { calibrationSample } from './calibrationRows.ts'
import type { Calibration } from '../report/rowTypes.ts'
import { estimatePrecision, OUTPUT_ERROR_THRESHOLD, type PrecisionWarning } from '../fixed/precisionWarnings.ts'
import { referenceForward } from '../fixed/referenceForward.ts'
import { simulateFeatures } from '../fixed/simulateBatch.ts'
import { DEFAULT_TOLERANCE, tolerancePerOutput } from '../fixed/tolerance.ts'
import { logitView } from './logitView.ts'
import { int8Eligible, keepsClasses } from './keepsClasses.ts'
import { resolvePrecision } from './resolvePrecision.ts'
import { checkHeadLabels } from './checkHeadLabels.ts'
import { chooseFraction, type Refit } from './chooseFraction.ts'
import { forwardCandidate } from '../codegen/forwarding/forwardingModel.ts'
import { fitRowLanes } from './fitRowLanes.ts'

export type Prepared = {
  model: ModelIR
  plan: Plan
  task: Task
  layout: WeightLayout
  contractName: string
  /** Bytes per upload transaction (one data contract or storage chunk), from batch.upload and the layout. */
  chunkSize: number
  /** What generateSolidity needs, written once: `generateSolidity(plan, prep.generate)`. */
  generate: GenerateOptions
  /** Quantisation error worth knowing about (figure, and the width that would fix it). */
  warnings: PrecisionWarning[]
  /** The rows `precision: auto` chose on (plan.json and report.json name them); undefined when nothing was chosen on rows. */
  calibration?: Calibration
}

/**
 * `auto` is `datacontract`: it embeds small models' weights in the code (deploying is uploading, and an
 * update swaps in data contracts), keeps large ones in data contracts (cheap to write: 200 gas per byte,
 * against 20,000 per 32-byte storage slot), and reads them with one EXTCODECOPY per transaction.
 */
export function resolveLayout(layout: Config['weights']['layout']): WeightLayout {
  if (layout === 'ml2sc')
    throw new ConfigError("weights.layout 'ml2sc' is the ML2SC baseline, built for the benchmark only", {
      where: 'weights.layout',
      hint: "`npm run bench` measures it beside ml2sc's layouts; use datacontract, code or storage here",
    })
  return layout === 'auto' ? 'datacontract' : layout
}

/** `weights: auto` keeps int16 while the simulator stays this close to the float model (half the 1e-4 bound). */
export const AUTO_ERROR_TARGET = 5e-5

/**
 * `precision.weights: auto`: int16 halves upload and storage gas against int32, so it is used whenever it
 * is accurate enough, measured with the bit-exact simulator against the float forward pass on the
 * calibration rows (calibrationRows.ts: data.calibration, else the first 20% of the test rows; random rows
 * when there are none); else int24, else int32. A classifier of relu/identity layers (its outputs are
 * logits, compared) with calibration rows gets the narrowest of int8, int16 and int24 (else int32) on which no
 * calibration row changes class and every output stays within `precision.tolerance` (against PyTorch's
 * outputs, data.reference, when the calibration rows are test rows).
 */
async function calibratedPlan(config: Config, model: ModelIR, progress?: (what: string) => void): Promise<{ plan: Plan; warnings: PrecisionWarning[]; calibration?: Calibration }> {
  if (config.data.test || config.data.calibration) progress?.('reading the calibration rows')
  const sample = await calibrationSample(config, model.inputSize, model.layers[model.layers.length - 1]!.weight.length, model.categorical)
  // a multi-output model is held to the tolerance on every output (no class shortcut: a value head has no classes)
  const { plan, warnings } = autoPlan(model, model.heads ? 'regression' : taskOf(model, config.model.task), config.precision, sample, sample?.reference, progress, config.weights.layout === 'code' || ((config.weights.layout === 'auto' || config.weights.layout === 'datacontract') && forwardCandidate(model)))
  return { plan, warnings, ...(sample?.calibration ? { calibration: sample.calibration } : {}) }
}

/**
 * Per-layer narrowing against `precision.tolerance` is tuned until it just passes the calibration rows, so it
 * must leave this share of the tolerance free for the rows it never saw (a uniform width steps 256× at a time
 * and keeps a margin by itself): ln_residual_wine took int4 in one layer on 8 calibration rows and then missed
 * test row 37 by 2.8× its tolerance. (The sigmoid/tanh/softmax path judges against AUTO_ERROR_TARGET, far
 * inside the tolerance already.)
 */
const NARROW_MARGIN = 0.5

/**
 * The plan for a precision config (its `auto` keys resolved on the sample rows, as `run` does), with its
 * precision warnings. `reference`: PyTorch's outputs for the sample rows, in order. `progress`
 * is told each candidate before it is tried (the selection runs the simulator on every sample row). `code`: the
 * `code` layout (per-layer narrowing then weighs its PUSH constants, not the blob).
 */
export function autoPlan(model: ModelIR, task: Task, precision: Config['precision'], sample?: { rows: number[][]; range: FeatureRange }, reference?: number[][], progress?: (what: string) => void, code = false): { plan: Plan; warnings: PrecisionWarning[] } {
  const spec = resolvePrecision(precision, weightedLayerNames(model))
  const rows = sample?.rows.length ? sample.rows.slice(0, 256) : undefined
  const check = (plan: Plan, threshold: number) => estimatePrecision(model, plan, { task, rows, threshold, suggest: threshold === OUTPUT_ERROR_THRESHOLD })
  // the float pass on the rows, and each output's tolerance there (PyTorch's outputs set the range when given)
  const floats = rows?.map((f) => referenceForward(model, f))
  const refs = rows?.map((_, i) => reference?.[i] ?? floats![i]!)
  const tolerance = refs ? tolerancePerOutput(precision.tolerance ?? DEFAULT_TOLERANCE, refs, model.layers[model.layers.length - 1]!.weight.length) : undefined
  const within = (p: Plan, against: number[][] | undefined, margin = 1) => !rows || !tolerance || withinTolerance(p, rows, against!, margin === 1 ? tolerance : tolerance.map((t) => t * margin))
  const view = rows ? logitView(model) : undefined
  let plan = makePlan(model, spec)
  // per-layer widths (narrowLayers.ts), run last: on the uniform width's plan with its chosen inputs
  let perLayer: ((p: Plan) => Plan) | undefined
  // the gate the widths were chosen by: `fraction: auto` holds a smaller activation scale to it too
  let gate: ((p: Plan) => boolean) | undefined
  // and chooses the widths again at a scale where the gate refuses the chosen ones (chooseFraction.ts Refit)
  let refit: Refit | undefined
  const narrow = (o: Omit<NarrowOptions, 'progress' | 'code'>) => (p: Plan) =>
    narrowLayers(model, specOf(p), p, { ...o, progress, code }).plan
  if (precision.weights === 'auto') {
    if (rows && tolerance && int8Eligible(model, task)) {
      // a classifier of relu/identity layers: its outputs are logits, compared and held to precision.tolerance
      // (issue 5's 1e-4 bound is for sigmoid, tanh, softmax and leaky outputs): the narrowest width whose
      // calibration rows keep every class PyTorch's (data.reference) and every output within the tolerance
      const wide = makePlan(model, { ...spec, weightBytes: 4 })
      const keeps = (p: Plan | undefined) => {
        if (p) progress?.(`trying int${8 * p.weightBytes} weights: do ${rows.length} calibration rows keep their classes and the tolerance?`)
        return !!p && keepsClasses(model, task, p, wide, rows, reference) && within(p, refs)
      }
      plan = [1, 2, 3].map((weightBytes) => tryPlan(() => makePlan(model, { ...spec, weightBytes }))).find(keeps) ?? wide
      // then per layer: the layers with the most lane words narrowed while the gate holds (int4 for an MLP's dense layers)
      const int4 = !model.tensorLayers?.length && !model.categorical?.length
      gate = (p) => keepsClasses(model, task, p, wide, rows, reference) && within(p, refs, NARROW_MARGIN)
      perLayer = narrow({ dense: int4 ? [0.5, 1, 2, 3] : [1, 2, 3], conv: [1, 2, 3], holds: gate })
      refit = refitWith(model, [1, 2, 3], gate, perLayer)
    } else {
      // int24 reaches the bound on every fixture at no per-row cost (the lanes stay as wide); int32 is the last resort
      // the logits' error × the last activation's Lipschitz bound (logitView.ts): a saturated sigmoid hides nothing
      const fits = (p: Plan) => {
        progress?.(`trying int${8 * p.weightBytes} weights on ${rows?.length ?? 'random'} rows`)
        const e = view ? estimatePrecision(view.model, view.plan(p), { task, rows, threshold: AUTO_ERROR_TARGET, suggest: false }) : check(p, AUTO_ERROR_TARGET)
        return e.maxAbs * (view?.lipschitz ?? 1) <= AUTO_ERROR_TARGET && e.flips === 0 && within(p, floats)
      }
      plan = [2, 3].map((weightBytes) => makePlan(model, { ...spec, weightBytes })).find(fits) ?? makePlan(model, { ...spec, weightBytes: 4 })
      // int24/int32 chosen: the layers that do not need it go back to int16 (or int24), judged the same way
      if (plan.weightBytes > 2) perLayer = narrow({ dense: [2, 3], conv: [2, 3], holds: fits })
      if (rows) gate = fits
      refit = refitWith(model, [2, 3], fits, narrow({ dense: [2, 3], conv: [2, 3], holds: fits }))
    }
  }
  // inputs after weights: the weights are judged with inputs at the activation scale, as before
  if (precision.inputs === 'auto') {
    progress?.(`choosing the input widths on ${rows?.length ?? 0} rows`)
    const inSpec = { ...spec, weightBytes: plan.weightBytes }
    if (!view) plan = chooseInputs(model, inSpec, task, rows, sample?.range, reference, tolerance).plan
    else {
      const c = chooseInputs(view.model, inSpec, task, rows, sample?.range, reference?.map(view.toLogits), tolerance, view.lipschitz).plan
      plan = tryPlan(() => makePlan(model, { ...inSpec, inputBytes: c.inputBytes, inputFraction: c.inputFraction, inputUnsigned: c.inputUnsigned })) ?? makePlan(model, { ...inSpec, inputBytes: 4 })
    }
  }
  // per layer last: with the inputs fixed, a narrower layer must pay for itself in lane words or bytes (with int32
  // inputs it could gain lanes that the narrow inputs give every width anyway)
  if (perLayer) plan = perLayer(plan)
  // `fraction: auto` (the default; a number is kept as given): a smaller activation scale when it takes fewer lane words and passes the gate
  if (gate && fractionIsAuto(precision)) plan = chooseFraction(model, plan, gate, progress, refit)
  // a conv on row lanes one compare bit short: its weights one bit coarser (fitRowLanes.ts), if the rows accept it:
  // the gate, or (a plan whose inputs already took it past the gate) no class changed and the error within 10% of the plan's
  if (gate && rows && plan.tensorLayers?.length) {
    const base = plan
    const error = (p: Plan) => (view ? estimatePrecision(view.model, view.plan(p), { task, rows, suggest: false }) : check(p, OUTPUT_ERROR_THRESHOLD))
    const accepts = (cut: Plan) => gate!(cut) || (!gate!(base) && noWorse(error(cut), error(base)) && within(cut, refs))
    plan = fitRowLanes(model, plan, accepts, progress)
  }
  return { plan, warnings: check(plan, OUTPUT_ERROR_THRESHOLD).warnings }
}

/**
 * Widths chosen again at another scale (chooseFraction.ts Refit), as autoPlan chose them at 2^20: the narrowest
 * uniform width of `widths` that passes `holds` at that plan's scale and inputs, then narrowed per layer.
 */
function refitWith(model: ModelIR, widths: number[], holds: (p: Plan) => boolean, perLayer: (p: Plan) => Plan): Refit {
  return (at) => {
    const uniform = widths.map((weightBytes) => tryPlan(() => makePlan(model, { ...specOf(at), weightBytes, layerWeightBytes: undefined }))).find((p) => !!p && holds(p))
    return uniform && perLayer(uniform)
  }
}

/** No class changed that had not, and the largest error at most 10% above the other plan's. */
const noWorse = (a: { maxAbs: number; flips: number }, b: { maxAbs: number; flips: number }) => a.flips <= b.flips && a.maxAbs <= 1.1 * b.maxAbs

/** `precision.fraction` left to auto: `auto` or absent, on a binary scale. */
const fractionIsAuto = (p: Config['precision']) => p.decimals === undefined && (p.fraction === undefined || p.fraction === 'auto')

/** Whether every output of the simulator (= the chain) on every row is within its tolerance of `against` (rows outside the safe range skipped). */
function withinTolerance(plan: Plan, rows: number[][], against: number[][], tolerance: number[]): boolean {
  const scale = Number(plan.scale)
  const answers = simulateFeatures(plan, rows)
  return rows.every((_f, i) => !answers[i] || answers[i].every((v, j) => Math.abs(Number(v) / scale - against[i]![j]!) <= tolerance[j]!))
}

const tryPlan = (make: () => Plan): Plan | undefined => {
  try {
    return make()
  } catch {
    return undefined
  }
}

/** Config → IR → fixed-point plan: everything that needs no chain and no compiler. */
export async function prepareModel(config: Config, opts: { deployed?: Plan; progress?: (what: string) => void } = {}): Promise<Prepared> {
  opts.progress?.('reading the model')
  const model = await loadModel(config.model)
  checkHeadLabels(config, model)
  const d = opts.deployed
  // new weights for a deployed contract are quantised at its scales, widths and lanes (or refused)
  const { plan, warnings, calibration } = d
    ? { plan: makePlan(model, specOf(d), pinOf(d)), warnings: [], calibration: undefined }
    : await calibratedPlan(config, model, opts.progress)
  const layout = resolveLayout(config.weights.layout)
  const base = path.basename(config.model.class ?? config.model.path).replace(/\.[^.]*$/, '')
  const contractName = 'Ml2sc_' + base.replace(/[^A-Za-z0-9_]/g, '_')
  const chunkSize = chunkSizeFor(layout, config.batch.upload === 'auto' ? undefined : config.batch.upload)
  const generate: GenerateOptions = { contractName, layout, chunkSize, modelFile: path.basename(config.model.path), ...(config.chain.owner ? { owner: config.chain.owner } : {}) }
  return { model, plan, task: taskOf(model, config.model.task), layout, contractName, chunkSize, generate, warnings, ...(calibration ? { calibration } : {}) }
}


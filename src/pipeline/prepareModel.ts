import path from 'node:path'
import type { Config } from '../config/types.ts'
import { chunkSizeFor, type GenerateOptions, type WeightLayout } from '../codegen/generateSolidity.ts'
import { ConfigError } from '../errors/base.ts'
import { makePlan } from '../fixed/makePlan.ts'
import { pinOf, type Plan } from '../fixed/types.ts'
import { taskOf } from '../ir/taskOf.ts'
import type { ModelIR, Task } from '../ir/types.ts'
import { loadModel } from '../model/loadModel.ts'
import { readRows } from '../data/readCsv.ts'
import { chooseInputs, type FeatureRange } from './autoInputs.ts'
import { estimatePrecision, OUTPUT_ERROR_THRESHOLD, type PrecisionWarning } from '../fixed/precisionWarnings.ts'
import { readReference } from '../data/readReference.ts'
import { int8Eligible, keepsClasses } from './keepsClasses.ts'
import { resolvePrecision } from './resolvePrecision.ts'

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
 * is accurate enough, measured with the bit-exact simulator against the float forward pass on the test
 * rows (or random rows when the config has none); else int24, else int32. A classifier of relu/identity
 * layers with test rows gets int8 when no row's class changes (against data.reference, PyTorch's
 * outputs, when given).
 */
async function calibratedPlan(config: Config, model: ModelIR, progress?: (what: string) => void): Promise<{ plan: Plan; warnings: PrecisionWarning[] }> {
  if (config.data.test) progress?.('reading the test rows')
  const sample = config.data.test ? await sampleRows(config, model.inputSize) : undefined
  const auto = config.precision.weights === 'auto' || config.precision.inputs === 'auto'
  const reference = auto && config.data.reference ? await readReference(config.data.reference, model.layers[model.layers.length - 1]!.weight.length) : undefined
  return autoPlan(model, taskOf(model, config.model.task), config.precision, sample, reference, progress)
}

/**
 * The plan for a precision config (its `auto` keys resolved on the sampled test rows, as `run` does),
 * with its precision warnings. `reference`: PyTorch's outputs for the sampled rows, in order. `progress`
 * is told each candidate before it is tried (the selection runs the simulator on every sampled row).
 */
export function autoPlan(model: ModelIR, task: Task, precision: Config['precision'], sample?: { rows: number[][]; range: FeatureRange }, reference?: number[][], progress?: (what: string) => void): { plan: Plan; warnings: PrecisionWarning[] } {
  const spec = resolvePrecision(precision)
  const rows = sample?.rows.slice(0, 256)
  const check = (plan: Plan, threshold: number) => estimatePrecision(model, plan, { task, rows, threshold, suggest: threshold === OUTPUT_ERROR_THRESHOLD })
  let plan = makePlan(model, spec)
  if (precision.weights === 'auto') {
    // int24 reaches the bound on every fixture at no per-row cost (the lanes stay as wide); int32 is the last resort
    const fits = (p: Plan) => {
      progress?.(`trying int${8 * p.weightBytes} weights on ${rows?.length ?? 'random'} rows`)
      const e = check(p, AUTO_ERROR_TARGET)
      return e.maxAbs <= AUTO_ERROR_TARGET && e.flips === 0
    }
    plan = [2, 3].map((weightBytes) => makePlan(model, { ...spec, weightBytes })).find(fits) ?? makePlan(model, { ...spec, weightBytes: 4 })
    // int8 halves the blob again and narrows the lanes: for a classifier of relu/identity layers (logits),
    // used when the test rows keep every class
    const int8 = rows && int8Eligible(model, task) ? tryPlan(() => makePlan(model, { ...spec, weightBytes: 1 })) : undefined
    if (int8) progress?.(`trying int8 weights: do ${rows!.length} rows keep their classes?`)
    if (int8 && keepsClasses(model, task, int8, plan, rows!, reference)) plan = int8
  }
  // inputs after weights: the weights are judged with inputs at the activation scale, as before
  if (precision.inputs === 'auto') progress?.(`choosing the input widths on ${sample?.rows.length ?? 0} rows`)
  if (precision.inputs === 'auto') plan = chooseInputs(model, { ...spec, weightBytes: plan.weightBytes }, task, sample?.rows, sample?.range, reference).plan
  return { plan, warnings: check(plan, OUTPUT_ERROR_THRESHOLD).warnings }
}

const tryPlan = (make: () => Plan): Plan | undefined => {
  try {
    return make()
  } catch {
    return undefined
  }
}

/** Rows `precision.inputs: auto` checks the classes on (the first 1,000), and the largest |feature| of every test row. */
async function sampleRows(config: Config, features: number): Promise<{ rows: number[][]; range: FeatureRange }> {
  const rows: number[][] = []
  const range = { min: Infinity, max: -Infinity }
  for await (const r of readRows(config.data.test, { label: config.data.label, drop: config.data.drop, limit: config.data.limit, requireLabel: false, features, classes: config.data.classes })) {
    for (const x of r.features) (range.min = Math.min(range.min, x)), (range.max = Math.max(range.max, x))
    if (rows.length < 1_000) rows.push(r.features)
  }
  return { rows, range }
}

/** Config → IR → fixed-point plan: everything that needs no chain and no compiler. */
export async function prepareModel(config: Config, opts: { deployed?: Plan; progress?: (what: string) => void } = {}): Promise<Prepared> {
  opts.progress?.('reading the model')
  const model = await loadModel(config.model)
  const d = opts.deployed
  // new weights for a deployed contract are quantised at its scales, widths and lanes (or refused)
  const { plan, warnings } = d
    ? { plan: makePlan(model, { fraction: d.F, decimals: d.decimals, weightBytes: d.weightBytes, inputBytes: d.inputBytes, inputFraction: d.inputFraction, inputUnsigned: d.inputUnsigned }, pinOf(d)), warnings: [] }
    : await calibratedPlan(config, model, opts.progress)
  const layout = resolveLayout(config.weights.layout)
  const base = path.basename(config.model.class ?? config.model.path).replace(/\.[^.]*$/, '')
  const contractName = 'Ml2sc_' + base.replace(/[^A-Za-z0-9_]/g, '_')
  const chunkSize = chunkSizeFor(layout, config.batch.upload === 'auto' ? undefined : config.batch.upload)
  const generate: GenerateOptions = { contractName, layout, chunkSize, modelFile: path.basename(config.model.path), ...(config.chain.owner ? { owner: config.chain.owner } : {}) }
  return { model, plan, task: taskOf(model, config.model.task), layout, contractName, chunkSize, generate, warnings }
}

import type { ModelIR, Task } from '../ir/types.ts'
import { interpret } from './encodeRows.ts'
import { makePlan } from './makePlan.ts'
import { referenceForward } from './referenceForward.ts'
import { simulateFeatures } from './simulateBatch.ts'
import { specOf, weightWidthsOf, weightWidthText, type Plan } from './types.ts'

/** Output errors above this (absolute, in output units) are worth a warning. */
export const OUTPUT_ERROR_THRESHOLD = 1e-4

export type PrecisionWarning = {
  /** `output-error`: the largest output error is above the threshold; `class-flips`: the chain's class
   *  differs from the float model's on some rows; `close-margins`: rows whose class margin is within the
   *  quantisation error, so a flip is possible on similar inputs. */
  code: 'output-error' | 'class-flips' | 'close-margins'
  /** One line for the terminal, with the figure. */
  message: string
  /** The figure: the max abs error, or a number of rows. */
  value: number
  hint?: string
}

export type PrecisionEstimate = {
  /** Where the rows came from: the test set, or random N(0, 1) features when there is none. */
  source: 'rows' | 'random'
  /** Rows simulated (rows outside the safe input range are skipped). */
  rows: number
  /** Output error of the fixed-point model (bit-exact simulator) against the float64 forward pass. */
  maxAbs: number
  meanAbs: number
  /** Classification only: rows whose class differs / whose margin is within 2·maxAbs. */
  flips: number
  closeMargins: number
  warnings: PrecisionWarning[]
}

export type EstimateOptions = {
  task: Task
  /** Feature rows to measure on (e.g. the test CSV); without them, `samples` random rows. */
  rows?: number[][]
  /** How many rows at most (default 256: enough for the max error, cheap for big models). */
  samples?: number
  seed?: number
  threshold?: number
  /** Also try wider weight widths to say which one would do (default true). */
  suggest?: boolean
}

/** Deterministic normal samples (mulberry32 + Box–Muller), so the estimate is reproducible. */
function normals(seed: number) {
  let a = seed >>> 0
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296
  }
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u())
}

type Measure = { rows: number; maxAbs: number; meanAbs: number; flips: number; closeMargins: number }

/** The class of float outputs, as `interpret` reads raw ones. */
function floatClass(plan: Plan, task: Task, y: number[]): number {
  if (task === 'multiclass') return y.indexOf(Math.max(...y))
  const sigmoid = plan.layers[plan.layers.length - 1]!.activation.kind === 'sigmoid'
  return (sigmoid ? y[0]! > 0.5 : y[0]! > 0) ? 1 : 0
}

/** How far the float outputs are from changing class (in output units). */
function margin(plan: Plan, task: Task, y: number[]): number {
  if (task === 'multiclass') {
    const s = [...y].sort((a, b) => b - a)
    return s.length > 1 ? s[0]! - s[1]! : Infinity
  }
  const sigmoid = plan.layers[plan.layers.length - 1]!.activation.kind === 'sigmoid'
  return Math.abs(y[0]! - (sigmoid ? 0.5 : 0))
}

function measure(model: ModelIR, plan: Plan, task: Task, rows: number[][]): Measure {
  const scale = Number(plan.scale)
  let maxAbs = 0
  let sum = 0
  let count = 0
  let n = 0
  let flips = 0
  const refs: number[][] = []
  const answers = simulateFeatures(plan, rows)
  for (const [i, f] of rows.entries()) {
    const raw = answers[i]
    if (!raw) continue
    n++
    // against the float model on the features themselves, as report.json's error.maxAbs is measured
    const ref = referenceForward(model, f)
    refs.push(ref)
    raw.forEach((v, j) => {
      const e = Math.abs(Number(v) / scale - ref[j]!)
      maxAbs = Math.max(maxAbs, e)
      sum += e
      count++
    })
    if (task !== 'regression' && interpret(plan, task, raw) !== floatClass(plan, task, ref)) flips++
  }
  const closeMargins = task === 'regression' ? 0 : refs.filter((y) => margin(plan, task, y) <= 2 * maxAbs).length
  return { rows: n, maxAbs, meanAbs: count ? sum / count : 0, flips, closeMargins }
}

const fmt = (x: number) => x.toExponential(1)

/**
 * Estimate the quantisation error of a plan: simulate it (bit-exact, as the chain computes) against the
 * float64 forward pass on the given rows, or on random N(0, 1) rows, and warn when it matters: an output
 * error above `threshold` (1e-4), classes that differ from the float model's, or class margins within the
 * error. When weights are the limit, the hint names the narrowest wider `precision.weights` that would do.
 */
export function estimatePrecision(model: ModelIR, plan: Plan, opts: EstimateOptions): PrecisionEstimate {
  const threshold = opts.threshold ?? OUTPUT_ERROR_THRESHOLD
  const samples = opts.samples ?? 256
  let source: PrecisionEstimate['source'] = 'rows'
  let rows = (opts.rows ?? []).slice(0, samples)
  if (rows.length === 0) {
    source = 'random'
    const g = normals(opts.seed ?? 1)
    rows = Array.from({ length: samples }, () => Array.from({ length: plan.inputSize }, g))
  }
  const m = measure(model, plan, opts.task, rows)
  const where = source === 'rows' ? `on ${m.rows} rows` : `on ${m.rows} random N(0,1) rows`
  const widths = `${weightWidthText(plan)} weights, scale 2^${plan.F}`
  const warnings: PrecisionWarning[] = []

  let hint: string | undefined
  const needsHint = m.maxAbs > threshold || m.flips > 0 || m.closeMargins > 0
  if (needsHint && (opts.suggest ?? true)) {
    for (const wb of [2, 3, 4, 6, 8].filter((b) => b > Math.min(...weightWidthsOf(plan)))) {
      let wider: Plan
      try {
        wider = makePlan(model, { ...specOf(plan), weightBytes: wb, layerWeightBytes: undefined })
      } catch {
        continue
      }
      const w = measure(model, wider, opts.task, rows)
      if (w.maxAbs <= threshold && w.flips === 0) {
        hint = `precision.weights: int${8 * wb} brings it to ${fmt(w.maxAbs)}`
        break
      }
    }
    hint ??= plan.F < 32 ? `raise precision.fraction (now ${plan.F}) and widen precision.weights` : 'widen precision.weights'
  }

  if (m.maxAbs > threshold)
    warnings.push({ code: 'output-error', value: m.maxAbs, hint, message: `quantisation error up to ${fmt(m.maxAbs)} on the outputs (${widths}, ${where}), above ${fmt(threshold)}` })
  if (m.flips > 0)
    warnings.push({ code: 'class-flips', value: m.flips, hint, message: `${m.flips} of ${m.rows} rows get another class than the float model (${widths}, ${where})` })
  else if (m.closeMargins > 0)
    warnings.push({
      code: 'close-margins',
      value: m.closeMargins,
      hint,
      message: `${m.closeMargins} of ${m.rows} rows have a class margin within twice the quantisation error (${fmt(m.maxAbs)}): a class could flip on similar inputs`,
    })
  return { source, ...m, warnings }
}

/** Just the warnings (see estimatePrecision). */
export function precisionWarnings(model: ModelIR, plan: Plan, opts: EstimateOptions): PrecisionWarning[] {
  return estimatePrecision(model, plan, opts).warnings
}

import { interpret } from '../fixed/encodeRows.ts'
import { makePlan } from '../fixed/makePlan.ts'
import { OUTPUT_ERROR_THRESHOLD } from '../fixed/precisionWarnings.ts'
import { referenceForward } from '../fixed/referenceForward.ts'
import { simulateFeatures } from '../fixed/simulateBatch.ts'
import type { Plan, PrecisionSpec } from '../fixed/types.ts'
import type { ModelIR, Task } from '../ir/types.ts'

/** `precision.inputs: auto` tries these calldata widths (bytes), narrowest first. */
const WIDTHS = [1, 2, 3, 4, 6, 8, 16, 32]
/** Every test feature must fit this many times over: room for rows a little beyond the test set's. */
export const INPUT_HEADROOM = 2

export type InputChoice = { inputBytes: number; inputFraction?: number; inputUnsigned?: boolean }
/** The smallest and largest feature over every test row. */
export type FeatureRange = { min: number; max: number }

/**
 * Candidate calldata encodings, narrowest first. Binary scale: the finest 2^Fin (Fin ≤ F) at which every
 * feature × INPUT_HEADROOM fits the width, unsigned when no feature is negative (one more bit: [0, 1]
 * features get 2^15 in 16 bits); Fin = F is today's plan (inputs at the activation scale). Decimal scale
 * 10^d: inputs stay at 10^d, only the width is chosen.
 */
export function inputCandidates(spec: PrecisionSpec, range: FeatureRange): InputChoice[] {
  const unsigned = spec.decimals === undefined && range.min >= 0
  const big = Math.max(Math.abs(range.min), Math.abs(range.max), 2 ** -8)
  const out: InputChoice[] = []
  for (const w of WIDTHS) {
    // the half-open range the width holds at scale 1: [0, 2^8w) or [-2^(8w-1), 2^(8w-1))
    const span = 2 ** (8 * w - (unsigned ? 0 : 1))
    if (spec.decimals !== undefined) {
      if (big * INPUT_HEADROOM * 10 ** spec.decimals < span) out.push({ inputBytes: w })
      continue
    }
    // the finest 2^Fin whose range reaches HEADROOM × the largest feature (e.g. [0, 2) for [0, 1] features)
    const fin = Math.min(spec.fraction, Math.floor(Math.log2(span / (big * INPUT_HEADROOM))))
    if (fin < 0) continue
    if (fin === spec.fraction) {
      // inputs at the activation scale: signed, as without auto (wider widths add nothing)
      out.push({ inputBytes: w })
      break
    }
    out.push({ inputBytes: w, inputFraction: fin, ...(unsigned ? { inputUnsigned: true } : {}) })
  }
  return out
}

/** `worst`: the largest error of each output. */
type Outcome = { classes: number[]; maxAbs: number; refused: number; worst: number[] }

function floatClass(plan: Plan, task: Task, y: number[]): number {
  if (task === 'multiclass') return y.indexOf(Math.max(...y))
  return (plan.layers[plan.layers.length - 1]!.activation.kind === 'sigmoid' ? y[0]! > 0.5 : y[0]! > 0) ? 1 : 0
}

/** The simulator (= the chain) on every row: its classes, and its largest error against the float model. */
function outcome(plan: Plan, task: Task, rows: number[][], refs: number[][]): Outcome {
  const classes: number[] = []
  let maxAbs = 0
  let refused = 0
  const worst = refs[0]?.map(() => 0) ?? []
  const answers = simulateFeatures(plan, rows)
  rows.forEach((_f, i) => {
    const raw = answers[i]
    if (!raw) {
      refused++
      classes.push(-1)
      return
    }
    raw.forEach((v, j) => {
      const e = Math.abs(Number(v) / Number(plan.scale) - refs[i]![j]!)
      maxAbs = Math.max(maxAbs, e)
      worst[j] = Math.max(worst[j]!, e)
    })
    classes.push(task === 'regression' ? 0 : interpret(plan, task, raw))
  })
  return { classes, maxAbs, refused, worst }
}

const rangeOf = (rows: number[][]): FeatureRange =>
  rows.reduce((r, row) => row.reduce((q, x) => ({ min: Math.min(q.min, x), max: Math.max(q.max, x) }), r), { min: Infinity, max: -Infinity })

/**
 * `precision.inputs: auto`: the narrowest calldata encoding (width, input scale, sign) that gives up
 * nothing on the test rows against the plan with int32 inputs at the activation scale: no row refused, no
 * row whose class matches PyTorch's (data.reference, else the float forward pass) there but not here, and the output error
 * no larger than max(1e-4, twice that plan's) nor than `tolerance` (precision.tolerance, per output); the same for convolutional models (their first conv reads
 * the inputs at 2^Fin). Without test rows: int32 at the activation scale, as before. A decimal scale keeps inputs at 10^d and takes the narrowest width that
 * holds the rows (±16 without rows).
 */
export function chooseInputs(model: ModelIR, spec: PrecisionSpec, task: Task, rows: number[][] | undefined, allRange?: FeatureRange, reference?: number[][], tolerance?: number[], errorScale = 1): { plan: Plan; tried: number } {
  // the range of every test row (not only the rows checked here), else of these rows, else ±16
  const range = allRange ?? (rows?.length ? rangeOf(rows) : { min: -16, max: 16 })
  if (spec.decimals !== undefined) {
    // inputs stay at 10^d: the width changes no number, only which rows fit; the narrowest that holds them
    for (const c of inputCandidates(spec, range))
      try {
        return { plan: makePlan(model, { ...spec, ...c }), tried: 1 }
      } catch {
        // lanes too wide for this width's interval analysis: try the next
      }
    return { plan: makePlan(model, spec), tried: 0 }
  }
  const baseline = makePlan(model, { ...spec, inputBytes: 4, inputFraction: undefined, inputUnsigned: undefined })
  if (!rows?.length || !Number.isFinite(range.min)) return { plan: baseline, tried: 0 }
  const refs = rows.map((f) => referenceForward(model, f))
  // the classes to keep: PyTorch's own (data.reference) where given, else the float forward pass's
  const want = refs.map((y, i) => floatClass(baseline, task, reference?.[i] ?? y))
  // errorScale: the model is a logit view (logitView.ts), its errors times the last activation's Lipschitz bound
  const scaled = (o: Outcome): Outcome => ({ ...o, maxAbs: o.maxAbs * errorScale, worst: o.worst.map((e) => e * errorScale) })
  const base = scaled(outcome(baseline, task, rows, refs))
  const errBound = Math.max(OUTPUT_ERROR_THRESHOLD, 2 * base.maxAbs)
  let tried = 0
  for (const c of inputCandidates(spec, range)) {
    let plan: Plan
    try {
      plan = makePlan(model, { ...spec, ...c })
    } catch {
      continue // e.g. the first layer's weights too large for this input scale
    }
    tried++
    const o = scaled(outcome(plan, task, rows, refs))
    const keepsClasses = o.classes.every((k, i) => k === want[i] || base.classes[i] !== want[i])
    const withinTolerance = !tolerance || o.worst.every((e, j) => e <= tolerance[j]!)
    if (o.refused <= base.refused && keepsClasses && o.maxAbs <= errBound && withinTolerance) return { plan, tried }
  }
  return { plan: baseline, tried }
}

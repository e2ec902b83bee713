import { makePlan } from '../fixed/makePlan.ts'
import { specOf, type Plan } from '../fixed/types.ts'
import type { ModelIR } from '../ir/types.ts'
import { laneWordsPerRow } from './narrowLayers.ts'

/** The activation fractions `precision.fraction: auto` tries below the default 2^20, largest first. */
export const FRACTION_CANDIDATES = [16, 12]

/**
 * The widths chosen again at another activation scale (autoPlan's own choice: the narrowest uniform width that
 * passes the gate there, then per-layer narrowing), or undefined when no width passes at that scale.
 */
export type Refit = (at: Plan) => Plan | undefined

/**
 * `precision.fraction: auto`: once the widths are chosen (at 2^20), the same widths and inputs at a smaller
 * activation scale: smaller activations need fewer accumulator bits, so a conv or dense layer may fit more SIMD
 * lanes per word. A fraction is kept only when its plan multiplies fewer lane words per row than the best so far
 * AND passes `holds` (the gate the widths were chosen by, with the same margin) on the calibration rows.
 *
 * When the gate refuses the widths at a scale that would save lane words, `refit` chooses the widths again at
 * that scale (a layer the looser widths left narrow may need one more byte there: at tolerance 3% the CNN's
 * uniform int8 fails at 2^12, where int8 convs and an int16 head pass, the plan the default 1% lands on). Without
 * it, a looser tolerance could end dearer than a tighter one. A scale where no widths pass ends the search
 * (a smaller scale only rounds more).
 */
export function chooseFraction(model: ModelIR, chosen: Plan, holds: (p: Plan) => boolean, progress?: (what: string) => void, refit?: Refit): Plan {
  let best = chosen
  const inputFraction = chosen.inputFraction ?? chosen.F
  for (const F of FRACTION_CANDIDATES.filter((f) => f < chosen.F)) {
    let candidate: Plan
    try {
      candidate = makePlan(model, { ...specOf(chosen), fraction: F, inputFraction: Math.min(inputFraction, F) })
    } catch {
      continue // e.g. a weight that no longer fits its width at this input scale
    }
    const [was, now] = [laneWordsPerRow(best), laneWordsPerRow(candidate)]
    if (now >= was) continue
    progress?.(`activation scale 2^${F} (${now.toLocaleString('en-US')} lane words a row, against ${was.toLocaleString('en-US')}): do the calibration rows keep their classes and the tolerance?`)
    if (holds(candidate)) {
      best = candidate
      continue
    }
    const again = refit?.(candidate)
    if (!again) break
    const words = laneWordsPerRow(again)
    progress?.(`activation scale 2^${F} with the widths chosen again there: ${words.toLocaleString('en-US')} lane words a row`)
    if (words < laneWordsPerRow(best)) best = again
  }
  return best
}

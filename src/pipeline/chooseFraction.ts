import { makePlan } from '../fixed/makePlan.ts'
import { specOf, type Plan } from '../fixed/types.ts'
import type { ModelIR } from '../ir/types.ts'
import { laneWordsPerRow } from './narrowLayers.ts'

/** The activation fractions `precision.fraction: auto` tries below the default 2^20, largest first. */
export const FRACTION_CANDIDATES = [16, 12]

/**
 * `precision.fraction: auto`: once the widths are chosen (at 2^20), the same widths and inputs at a smaller
 * activation scale: smaller activations need fewer accumulator bits, so a conv or dense layer may fit more SIMD
 * lanes per word. A fraction is kept only when its plan multiplies fewer lane words per row than the best so far
 * AND passes `holds` (the gate the widths were chosen by, with the same margin) on the calibration rows. One
 * simulator pass per fraction that would save lane words (none when no smaller fraction does); a refused
 * fraction ends the search.
 */
export function chooseFraction(model: ModelIR, chosen: Plan, holds: (p: Plan) => boolean, progress?: (what: string) => void): Plan {
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
    if (!holds(candidate)) break // a smaller scale only rounds more
    best = candidate
  }
  return best
}

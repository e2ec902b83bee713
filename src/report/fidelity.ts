import { Ml2scError } from '../errors/base.ts'
import { DEFAULT_TOLERANCE, tolerancePerOutput, toleranceShare, worstDeviation, type ToleranceSetting } from '../fixed/tolerance.ts'

const round = (x: number, d = 9) => Number(x.toPrecision(d))

/**
 * The fidelity gate's figures (report.json `fidelity`): every answered row's outputs against the
 * reference, each output held to its tolerance (`precision.tolerance`). `enforced`: the reference is
 * PyTorch's own outputs (data.reference), so `run` fails when `within` is false; against ml2sc's float
 * pass the figures are only reported (with a warning).
 */
export type Fidelity = {
  enforced: boolean
  against: 'pytorch-csv' | 'ml2sc-float'
  /** The setting (`"1%"` of each output's range, or a number in output units) and the bound it gives each output. */
  tolerance: ToleranceSetting
  tolerances: number[]
  /** Rows compared (every answered row, calibration rows included). */
  rows: number
  /** The output furthest beyond (or closest to) its tolerance: the row as predictions.csv numbers it. */
  worst: { row: number; output: number; onchain: number; reference: number; deviation: number; tolerance: number } | null
  within: boolean
}

/**
 * `outputs[i]`: row i's on-chain outputs in output units (undefined when it was not answered); `reference[i]`:
 * what it is measured against; `rowNumbers[i]`: its row number. The tolerance's range is taken over every
 * reference row.
 */
export function measureFidelity(outputs: (number[] | undefined)[], reference: number[][], rowNumbers: number[], setting: ToleranceSetting | undefined, against: Fidelity['against']): Fidelity {
  const tolerance = setting ?? DEFAULT_TOLERANCE
  const tolerances = tolerancePerOutput(tolerance, reference, reference[0]?.length ?? 0)
  const w = worstDeviation(outputs, reference, tolerances)
  return {
    enforced: against === 'pytorch-csv',
    against,
    tolerance,
    tolerances: tolerances.map((t) => round(t, 6)),
    rows: outputs.filter(Boolean).length,
    worst: w ? { row: rowNumbers[w.index]!, output: w.output, onchain: round(w.value), reference: round(w.reference), deviation: round(w.deviation, 6), tolerance: round(w.tolerance, 6) } : null,
    within: !w || w.deviation <= w.tolerance,
  }
}

/** How the tolerance was set, for messages: `1% of output 2's range` or `precision.tolerance 0.05`. */
export function toleranceText(f: Pick<Fidelity, 'tolerance'>, output: number): string {
  const share = toleranceShare(f.tolerance)
  return share === undefined ? `precision.tolerance ${f.tolerance}` : `precision.tolerance ${f.tolerance} of output ${output}'s range`
}

/** `run` (and `report`) fail with this when PyTorch's outputs are at hand and an output leaves its tolerance. */
export class FidelityError extends Ml2scError {
  override name = 'FidelityError'
}

/** The gate: throws FidelityError (one line: the worst row and output, both values, the tolerance) when it fails. */
export function checkFidelity(f: Fidelity, opts: { guessed?: boolean; reportFile: string }): void {
  if (!f.enforced || f.within || !f.worst) return
  const w = f.worst
  throw new FidelityError(
    `row ${w.row}, output ${w.output}: ${w.onchain} on chain vs ${w.reference} in PyTorch (off by ${w.deviation}), beyond the tolerance ${w.tolerance} (${toleranceText(f, w.output)}); ${opts.reportFile} is written`,
    {
      where: 'fidelity gate (data.reference)',
      hint: opts.guessed
        ? 'model.layers was GUESSED by `ml2sc init` from the tensor shapes: give the real architecture (model.source + model.class, or model.layers) and run again'
        : 'a wrong architecture (model.layers / model.source) or too narrow a precision (precision.weights, precision.fraction) does this; check them, or set precision.tolerance',
    },
  )
}

/**
 * `precision.tolerance`: how far an output may be from PyTorch's before `run` fails. A number is an
 * absolute bound in output units, the same for every output; a share (`"1%"`, the default) is that share of
 * each output's range (largest minus smallest) over the reference rows, never below TOLERANCE_FLOOR.
 */
export type ToleranceSetting = number | string

/** The schema's default: 1% of each output's range over the reference rows. */
export const DEFAULT_TOLERANCE = '1%'
/** No tolerance is below this (output units): half-ulp rounding and the activations' approximations live here. */
export const TOLERANCE_FLOOR = 1e-4

/** The share of a `"N%"` setting (0.01 for `"1%"`), or undefined for an absolute number. */
export const toleranceShare = (t: ToleranceSetting): number | undefined => (typeof t === 'string' ? Number(t.replace(/%$/, '')) / 100 : undefined)

/**
 * The bound for each output, from the setting and the reference outputs (one row per sample). An output
 * whose range is 0 (one row, or a constant output) takes its largest magnitude instead, and 1 when that is 0.
 */
export function tolerancePerOutput(setting: ToleranceSetting, reference: number[][], outputs: number): number[] {
  const share = toleranceShare(setting)
  return Array.from({ length: outputs }, (_, j) => {
    if (share === undefined) return setting as number
    let lo = Infinity
    let hi = -Infinity
    let big = 0
    for (const r of reference) {
      const v = r[j]!
      lo = Math.min(lo, v)
      hi = Math.max(hi, v)
      big = Math.max(big, Math.abs(v))
    }
    const range = hi > lo ? hi - lo : big || 1
    return Math.max(TOLERANCE_FLOOR, share * range)
  })
}

/** The worst output against its tolerance: the row index, output, both values and how far apart (rows without outputs skipped). */
export type Deviation = { index: number; output: number; value: number; reference: number; deviation: number; tolerance: number; ratio: number }

/**
 * The output that leaves its tolerance by the most (largest deviation / tolerance), over every row with
 * outputs; undefined when there are none.
 */
export function worstDeviation(outputs: (number[] | undefined)[], reference: number[][], tolerance: number[]): Deviation | undefined {
  let worst: Deviation | undefined
  outputs.forEach((ys, i) =>
    ys?.forEach((v, j) => {
      const r = reference[i]![j]!
      const deviation = Math.abs(v - r)
      const ratio = deviation / tolerance[j]!
      if (!worst || ratio > worst.ratio) worst = { index: i, output: j, value: v, reference: r, deviation, tolerance: tolerance[j]!, ratio }
    }),
  )
  return worst
}

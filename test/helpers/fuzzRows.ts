// Row generators for the differential fuzz (test/fuzz/differential.test.ts): random rows of each kind over a
// plan's safe input range, the exact-edge rows, and the oracle for what encodeRow must accept.
import { quantize } from '../../src/fixed/makePlan.ts'
import type { Plan } from '../../src/fixed/types.ts'
import type { Rng } from './syntheticModels.ts'

/** One input ulp: inputs may have their own scale 2^inputFraction. */
export const inputUlp = (plan: Plan) => 2 ** -(plan.inputFraction ?? plan.F)

// ---- rows ----------------------------------------------------------------------------------------------

export type Kind = 'csv' | 'uniform' | 'wide' | 'extreme' | 'boundary' | 'zero' | 'negative' | 'tiny' | 'outside'
export const KINDS: Kind[] = ['uniform', 'uniform', 'wide', 'extreme', 'boundary', 'zero', 'negative', 'tiny', 'outside']

/** Float features of one row of the given kind (the safe range is [lo, hi] at scale 2^F). */
export function makeRow(r: Rng, plan: Plan, kind: Kind, spread: number): number[] {
  const n = plan.inputSize
  const ulp = inputUlp(plan)
  const { lo, hi } = edges(plan)
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!
  // unsigned inputs: every kind but 'outside' stays ≥ 0
  const f = (): number => (plan.inputUnsigned ? Math.abs(g()) : g())
  const g = (): number => {
    switch (kind) {
      case 'uniform':
        return (r() * 2 - 1) * Math.min(spread, hi)
      case 'wide':
        return lo + r() * (hi - lo)
      case 'extreme':
        return pick([lo, hi, 0, lo / 2, hi / 2, -hi, hi * 0.999])
      case 'boundary': // within a few ulps of the edges (a double may round them outward: then refused)
        return r() < 0.5 ? hi - Math.floor(r() * 4) * ulp : lo + Math.floor(r() * 4) * ulp
      case 'zero':
        return 0
      case 'negative':
        return -r() * (r() < 0.7 ? Math.min(spread, hi) : hi)
      case 'tiny':
        return (Math.floor(r() * 9) - 4) * ulp
      default:
        return (r() * 2 - 1) * Math.min(spread, hi)
    }
  }
  const row = Array.from({ length: n }, f)
  if (kind === 'outside') {
    const i = Math.floor(r() * n)
    // just past either edge (when a double can say so), far past, or not a number at all
    const x = pick([hi + ulp, lo - ulp, hi + ulp / 2, hi * 2 + 1, lo * 2 - 1, Infinity, -Infinity, NaN, 1e300, -1e300])
    row[i] = inRange(plan, x) ? hi * 2 + 1 : x
  }
  return row
}

/** The widest float features encodeRow accepts (for int64 inputs, ±2^63/2^F as doubles round outward). */
export function edges(plan: Plan): { lo: number; hi: number } {
  const ulp = inputUlp(plan)
  let lo = Number(plan.inputMin) * ulp
  let hi = Number(plan.inputMax) * ulp
  while (!inRange(plan, hi)) hi -= Math.max(ulp, Math.abs(hi) * 2 ** -52)
  while (!inRange(plan, lo)) lo += Math.max(ulp, Math.abs(lo) * 2 ** -52)
  return { lo, hi }
}

/** Rows of fixed-point inputs at the exact edges of the safe range (no float can name them all). */
export function edgeRows(r: Rng, plan: Plan): bigint[][] {
  const n = plan.inputSize
  const vals = [plan.inputMin, plan.inputMax, plan.inputMin + 1n, plan.inputMax - 1n, 0n, -1n, 1n].filter((v) => v >= plan.inputMin)
  const rows = [new Array(n).fill(plan.inputMax), new Array(n).fill(plan.inputMin), Array.from({ length: n }, (_, i) => (i % 2 ? plan.inputMax : plan.inputMin))]
  while (rows.length < 24) rows.push(Array.from({ length: n }, () => vals[Math.floor(r() * vals.length)]!))
  return rows
}

/** The oracle for encodeRow: a finite feature that rounds (half away from zero) into [inputMin, inputMax]. */
export function inRange(plan: Plan, x: number): boolean {
  const fin = plan.inputFraction ?? plan.F
  if (!Number.isFinite(x) || !Number.isFinite(x * 2 ** fin)) return false
  const q = quantize(x, fin)
  return q >= plan.inputMin && q <= plan.inputMax
}


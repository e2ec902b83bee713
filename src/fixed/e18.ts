import { inputScaleOf, type Plan } from './types.ts'

/** 1e18: the unit of the client library's features and outputs (PRBMath's SD59x18, most DeFi code). */
export const E18 = 10n ** 18n

const INT256_MAX = (1n << 255n) - 1n

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b))
const abs = (v: bigint) => (v < 0n ? -v : v)

/**
 * y = round(v · A / B), half away from zero, with A/B in lowest terms and H = ⌊B/2⌋: y = sign(v) ·
 * ⌊(|v|·A + H) / B⌋. When B is even a tie rounds away from zero; when B is odd there are no ties.
 * The client library computes exactly this (`sdiv(add(mul(v, A), ±H), B)`).
 */
export type Ratio = { A: bigint; B: bigint; H: bigint }

export function ratio(num: bigint, den: bigint): Ratio {
  const g = gcd(num, den)
  const B = den / g
  return { A: num / g, B, H: B / 2n }
}

export const applyRatio = (r: Ratio, v: bigint): bigint => (v < 0n ? -1n : 1n) * ((abs(v) * r.A + r.H) / r.B)

/** 1e18 features → the model's input encoding (2^Fin or 10^d). */
export const inputRatio = (plan: Plan): Ratio => ratio(inputScaleOf(plan), E18)

/** The model's outputs (at its activation scale) → 1e18. */
export const outputRatio = (plan: Plan): Ratio => ratio(E18, plan.scale)

/**
 * The features (1e18) that convert into the plan's safe input range [inputMin, inputMax]: exactly those
 * v with inputMin ≤ round(v·A/B) ≤ inputMax, capped so that |v|·A + H never overflows an int256.
 */
export function featureRangeE18(plan: Plan): { min: bigint; max: bigint } {
  const r = inputRatio(plan)
  if (plan.inputMin > 0n || plan.inputMax < 0n) throw new Error(`the safe input range [${plan.inputMin}, ${plan.inputMax}] does not contain 0`)
  // round(|v|·A/B) ≤ M  ⇔  |v|·A/B < M + 1/2  ⇔  |v| < (2M+1)·B / 2A  (for B = 1: |v|·A ≤ M)
  const bound = (M: bigint) => (r.B === 1n ? M / r.A : ((2n * M + 1n) * r.B + 2n * r.A - 1n) / (2n * r.A) - 1n)
  const cap = (INT256_MAX - r.H) / r.A
  const min = -bound(-plan.inputMin)
  const max = bound(plan.inputMax)
  return { min: min < -cap ? -cap : min, max: max > cap ? cap : max }
}

export type EncodedE18 = { ok: true; values: bigint[] } | { ok: false; index: number; value: bigint; min: bigint; max: bigint }

/** What the client library does to one row of 1e18 features: range check, then round-to-nearest into the model's encoding. */
export function encodeRowE18(plan: Plan, features: bigint[]): EncodedE18 {
  const { min, max } = featureRangeE18(plan)
  const r = inputRatio(plan)
  const values: bigint[] = []
  for (let i = 0; i < features.length; i++) {
    const v = features[i]!
    if (v < min || v > max) return { ok: false, index: i, value: v, min, max }
    values.push(applyRatio(r, v))
  }
  return { ok: true, values }
}

/** Raw outputs (the model's scale) → 1e18, rounded to nearest as the client library does. */
export const decodeOutputsE18 = (plan: Plan, raw: bigint[]): bigint[] => raw.map((v) => applyRatio(outputRatio(plan), v))

/**
 * A float as 1e18 fixed point, from its shortest decimal text (what a CSV cell holds), rounded half away
 * from zero at the 18th decimal: exact, with no binary rounding on the way.
 */
export function toE18(x: number): bigint {
  if (!Number.isFinite(x)) throw new Error(`not a finite number: ${x}`)
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/.exec(String(x))!
  const digits = m[2]! + (m[3] ?? '')
  const exp = Number(m[4] ?? 0) - (m[3]?.length ?? 0) + 18
  let v: bigint
  if (exp >= 0) v = BigInt(digits) * 10n ** BigInt(exp)
  else {
    const d = 10n ** BigInt(-exp)
    v = (BigInt(digits) + d / 2n) / d
  }
  return m[1] ? -v : v
}

/**
 * Fixed-point activations, exactly as the generated contract computes them (see codegen/activationYul.ts).
 * Values are bigint at the activation scale (2^F or 10^d); the EVM's DIV and SHR floor, and so does
 * everything here.
 *
 * The approximation (no DIV inside exp; one DIV per sigmoid/tanh output for the reciprocal, 5 gas like a MUL):
 * - exp(-x), x ≥ 0 in activation units, result at 2^64 (`expNeg`): x is clamped to 50 units (e^-50 ≈ 2e-22
 *   is 0 at 2^64), turned into base-2 units with one MUL and one SHR, t = x·log2(e) at 2^64, and split as
 *   t = k + j/8 + g with k an integer, j in 0..7 and 0 ≤ g < 1/8. Then e^-x = 2^-k · 2^-(j/8) · 2^-g:
 *   2^-(j/8) from an 8-entry table of 32-bit values packed in one word (EXP2_TABLE, at 2^31), 2^-g from a
 *   degree-3 polynomial with P(0) = 1 (Horner form, each step floors), and 2^-k as a right shift.
 *   The polynomial is a minimax fit of the relative error on [0, 1/8] (scripts/fit-exp2.py), constrained to
 *   err a little high at g = 1/8 so that every table step meets the next one from above: exp is then
 *   monotone over the whole range. Largest relative error of exp: 2.65e-8.
 * - sigmoid(y) = 1/(1+e^-|y|) rounded to nearest, and 2^F minus it for y < 0 (so sigmoid(y) + sigmoid(-y)
 *   = 2^F exactly); tanh(y) = (1-e^-2|y|)/(1+e^-2|y|), sign restored; softmax = e^-(max-z_j) / Σ e^-(max-z_i).
 *   Each rounds to nearest once, at the end, to the activation scale.
 *
 * Measured max abs error against the float functions (test/fixed/activations.test.ts sweeps every ulp near
 * 0, the whole range to ±60 and the clamp region up to the int256 extremes), at the default F = 20:
 *   sigmoid 4.82e-7, tanh 4.88e-7, softmax 4.82e-7: half an ulp (2^-21 = 4.77e-7, the final rounding) plus
 *   at most 6.6e-9 (sigmoid, softmax) and 1.3e-8 (tanh) from exp (measured at 2^64). The required bound is 1e-6. At other scales
 *   (2^8 … 2^64, 10^18) the error stays within half an ulp + 1.4e-8. Properties: sigmoid and tanh are
 *   monotone, tanh is odd, sigmoid(y) + sigmoid(-y) = 2^F exactly, softmax sums to 2^F within n/2 ulps and
 *   is shift invariant. ReLU and LeakyReLU are exact (leaky: floor(y · round(slope·2^F) / 2^F), the SAR's floor).
 */
export const ONE64 = 1n << 64n
/**
 * The approximation's own largest abs error against the float function (measured at 2^64, where rounding
 * is negligible; asserted by test/fixed/activations.test.ts). At scale S an output is within this plus
 * half an ulp (1/(2S)) of the float function.
 */
export const APPROXIMATION_ERROR = { sigmoid: 6.6e-9, tanh: 1.32e-8, softmax: 6.6e-9 } as const

/** The largest abs error of each exp-based activation the plan uses, at its scale: half an ulp + the approximation's. */
export function activationErrors(kinds: string[], scale: bigint): Record<string, number> {
  const out: Record<string, number> = {}
  for (const k of kinds) if (k in APPROXIMATION_ERROR) out[k] = 0.5 / Number(scale) + APPROXIMATION_ERROR[k as keyof typeof APPROXIMATION_ERROR]
  return out
}
/** |x| beyond this many activation units is saturated before exp: e^-50 is 0 at 2^64. */
export const EXP_CLAMP_UNITS = 50n
/** round(log2(e) · 2^192): the base change, precise enough for any scale up to 10^36. */
const LOG2E_192 = 9055943544797870567083544809312461607371518589544137143473n
/** 2^-g ≈ 1 - g·(C1 - g·(C2 - g·C3)) for 0 ≤ g < 1/8, coefficients at 2^64. */
export const EXP2_C1 = 12786235899898251264n
export const EXP2_C2 = 4428058116669038080n
export const EXP2_C3 = 979973203488235776n
/** round(2^(31 - j/8)) for j = 0..7, entry j in bits [32j, 32j+32). */
export const EXP2_TABLE = [2147483648n, 1969251188n, 1805811301n, 1655936265n, 1518500250n, 1392470869n, 1276901417n, 1170923762n].reduce(
  (w, v, j) => w | (v << BigInt(32 * j)),
  0n,
)
const MASK61 = (1n << 61n) - 1n

/**
 * The base change x (activation units) → t = x·log2(e) at 2^64 is `(x · mul) >> shift`, one MUL and one SHR.
 * For a binary scale 2^F: shift = F and mul = round(log2(e)·2^64). For 10^d: shift = 64 + bits(10^d), so
 * that mul keeps about 128 bits; 50·10^36 · mul still fits 256 bits.
 */
export function expBase(scale: bigint): { mul: bigint; shift: number } {
  const isPow2 = (scale & (scale - 1n)) === 0n
  const shift = isPow2 ? scale.toString(2).length - 1 : 64 + scale.toString(2).length
  // round(LOG2E_192 · 2^(64+shift) / (scale · 2^192))
  const num = LOG2E_192 << BigInt(64 + shift)
  const den = scale << 192n
  return { mul: (num + den / 2n) / den, shift }
}

/** e^(-x / scale) at 2^64 for x ≥ 0 (activation units), floor semantics of the EVM's MUL and SHR. */
export function expNeg(x: bigint, scale: bigint): bigint {
  const { mul, shift } = expBase(scale)
  const clamp = EXP_CLAMP_UNITS * scale
  const t = ((x > clamp ? clamp : x) * mul) >> BigInt(shift)
  const g = t & MASK61
  const p = ONE64 - ((g * (EXP2_C1 - ((g * (EXP2_C2 - ((g * EXP2_C3) >> 64n))) >> 64n))) >> 64n)
  const tab = (EXP2_TABLE >> (((t >> 61n) & 7n) * 32n)) & 0xffffffffn
  return (p * tab) >> (31n + (t >> 64n))
}

export function sigmoidFixed(y: bigint, scale: bigint): bigint {
  const a = y < 0n ? -y : y
  const den = ONE64 + expNeg(a, scale)
  const s = (ONE64 * scale + (den >> 1n)) / den
  return y < 0n ? scale - s : s
}

export function tanhFixed(y: bigint, scale: bigint): bigint {
  const a = y < 0n ? -y : y
  const clamp = EXP_CLAMP_UNITS * scale
  const e = expNeg(2n * (a > clamp ? clamp : a), scale)
  const den = ONE64 + e
  const t = ((ONE64 - e) * scale + (den >> 1n)) / den
  return y < 0n ? -t : t
}

export function softmaxFixed(z: bigint[], scale: bigint): bigint[] {
  let m = z[0]!
  for (const v of z) if (v > m) m = v
  const e = z.map((v) => expNeg(m - v, scale))
  const s = e.reduce((acc, v) => acc + v, 0n)
  return e.map((v) => (v * scale + (s >> 1n)) / s)
}

export function reluFixed(y: bigint): bigint {
  return y < 0n ? 0n : y
}

/** Negative side: floor(y · slopeQ / 2^slopeBits), slopeQ = round(slope · 2^slopeBits). The EVM's SAR floors too. */
export function leakyReluFixed(y: bigint, slopeQ: bigint, slopeBits: number): bigint {
  return y < 0n ? (y * slopeQ) >> BigInt(slopeBits) : y
}

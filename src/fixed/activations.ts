/**
 * Fixed-point activations, exactly as the generated contract computes them (see codegen/activationYul.ts).
 * Values are bigint at scale 2^F; the EVM's DIV and SHR floor, and so does everything here.
 *
 * The approximation:
 * - exp(-x), x ≥ 0, at 2^64 internal precision (`expNeg64`): range reduction x = k·ln2 + r with
 *   0 ≤ r < ln2, then e^-r by its degree-12 Taylor polynomial in Horner form (each step floors), then a
 *   right shift by k (0 once k ≥ 64). The Taylor remainder r^13/13! is < 1.4e-12 on [0, ln2).
 * - Before exp, |y| is clamped to 50 (e^-50 ≈ 2e-22 is far below any ulp the scale can hold).
 * - sigmoid(y) = 1/(1+e^-|y|) (or e^-|y|/(1+e^-|y|) for y < 0); tanh(y) = (1-e^-2|y|)/(1+e^-2|y|), sign
 *   restored; softmax = e^-(max-z_j) / Σ e^-(max-z_i). Each divides at 2^64 and rounds to nearest once,
 *   at the end, to scale 2^F.
 *
 * Measured max abs error against the float functions (test/fixed/activations.test.ts sweeps every ulp
 * near 0, the whole range to ±60 and the clamp region up to the int256 extremes), at the default F = 20:
 *   sigmoid 4.77e-7, tanh 4.77e-7, softmax 4.77e-7 (= half an ulp, 2^-21: the final rounding), and
 *   exp 1.3e-12 (at 2^64). The required bound is 1e-6. At other scales (2^8 … 2^64) the error stays within
 *   half an ulp + 2e-12. Properties: sigmoid and tanh are monotone, tanh is odd, sigmoid(y) + sigmoid(-y)
 *   = 2^F within 1 ulp, softmax sums to 2^F within n/2 ulps and is shift invariant. ReLU and LeakyReLU are
 *   exact (leaky: floor(y · round(slope·2^F) / 2^F), the SAR's floor).
 */
export const ONE64 = 1n << 64n
/** round(ln 2 · 2^64) */
export const LN2_64 = 12786308645202655660n
export const EXP_DEGREE = 12
/** |x| beyond this many units is saturated before exp: e^-50 is 0 at 2^64. */
export const EXP_CLAMP_UNITS = 50n

/** e^(-x / 2^64) · 2^64 for x ≥ 0, floor semantics of the EVM's DIV and SHR. */
export function expNeg64(x: bigint): bigint {
  const k = x / LN2_64
  if (k >= 64n) return 0n
  const r = x - k * LN2_64
  let t = ONE64
  for (let j = BigInt(EXP_DEGREE); j >= 1n; j--) t = ONE64 - (r * t) / (j * ONE64)
  return t >> k
}

/**
 * |y| clamped and moved from the activation scale to 2^64 (times 2 for tanh): (c · 2^64) / scale, which
 * for a binary scale 2^F is exactly c << (64 − F), the form the contract uses there.
 */
function toP64(a: bigint, scale: bigint, twice = false): bigint {
  const clamp = EXP_CLAMP_UNITS * scale
  const c = a > clamp ? clamp : a
  return (c << (twice ? 65n : 64n)) / scale
}

export function sigmoidFixed(y: bigint, scale: bigint): bigint {
  const a = y < 0n ? -y : y
  const e = expNeg64(toP64(a, scale))
  const den = ONE64 + e
  const num = (y < 0n ? e : ONE64) * scale
  return (num + (den >> 1n)) / den
}

export function tanhFixed(y: bigint, scale: bigint): bigint {
  const a = y < 0n ? -y : y
  const e = expNeg64(toP64(a, scale, true))
  const den = ONE64 + e
  const t = ((ONE64 - e) * scale + (den >> 1n)) / den
  return y < 0n ? -t : t
}

export function softmaxFixed(z: bigint[], scale: bigint): bigint[] {
  let m = z[0]!
  for (const v of z) if (v > m) m = v
  const e = z.map((v) => expNeg64(toP64(m - v, scale)))
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

/**
 * Fixed-point activations, exactly as the generated contract computes them (see codegen/activationYul.ts).
 * Values are bigint at scale 2^F. exp uses range reduction by ln2 and a degree-12 Taylor polynomial in
 * Horner form at 2^64 internal precision; the last step rounds to nearest, so the largest error at
 * F = 20 is about half an ulp (4.8e-7), well inside the 1e-6 bound (test/fixed/activations.test.ts).
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

/** |y| clamped and moved from scale 2^F to 2^64 (times `mul`, 1 or 2). */
function toP64(a: bigint, F: number, twice = false): bigint {
  const clamp = EXP_CLAMP_UNITS << BigInt(F)
  const c = a > clamp ? clamp : a
  return c << BigInt(64 - F + (twice ? 1 : 0))
}

export function sigmoidFixed(y: bigint, F: number): bigint {
  const a = y < 0n ? -y : y
  const e = expNeg64(toP64(a, F))
  const den = ONE64 + e
  const num = y < 0n ? e << BigInt(F) : ONE64 << BigInt(F)
  return (num + (den >> 1n)) / den
}

export function tanhFixed(y: bigint, F: number): bigint {
  const a = y < 0n ? -y : y
  const e = expNeg64(toP64(a, F, true))
  const den = ONE64 + e
  const t = (((ONE64 - e) << BigInt(F)) + (den >> 1n)) / den
  return y < 0n ? -t : t
}

export function softmaxFixed(z: bigint[], F: number): bigint[] {
  let m = z[0]!
  for (const v of z) if (v > m) m = v
  const e = z.map((v) => expNeg64(toP64(m - v, F)))
  const s = e.reduce((acc, v) => acc + v, 0n)
  return e.map((v) => ((v << BigInt(F)) + (s >> 1n)) / s)
}

export function reluFixed(y: bigint): bigint {
  return y < 0n ? 0n : y
}

/** Negative side: floor(y · slopeQ / 2^F), slopeQ = round(slope · 2^F). The EVM's SAR floors too. */
export function leakyReluFixed(y: bigint, slopeQ: bigint, F: number): bigint {
  return y < 0n ? (y * slopeQ) >> BigInt(F) : y
}

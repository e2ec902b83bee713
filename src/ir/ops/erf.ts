/**
 * erf in float64 to ~1e-15 (JavaScript has no Math.erf): a series of positive terms below |x| = 3, the continued
 * fraction of erfc above. GELU's float reference; test/fixed/new-activations.test.ts checks it against
 * Python's math.erf (test/fixtures/ops/erf.csv).
 */
export function erf(x: number): number {
  const z = Math.abs(x)
  let r: number
  if (z < 3) {
    // erf(z) = 2/√π · e^-z² · Σ 2^n z^(2n+1) / (1·3·…·(2n+1)): positive terms, no cancellation
    let term = z
    let sum = z
    for (let n = 1; n < 300 && term > 1e-17 * sum; n++) {
      term *= (2 * z * z) / (2 * n + 1)
      sum += term
    }
    r = (2 / Math.sqrt(Math.PI)) * Math.exp(-z * z) * sum
  } else {
    // erfc(z) = e^-z² / √π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + 2/(z + …))))), evaluated from the tail
    let f = z
    for (let k = 80; k >= 1; k--) f = z + k / 2 / f
    r = 1 - Math.exp(-z * z) / Math.sqrt(Math.PI) / f
  }
  return x < 0 ? -r : r
}

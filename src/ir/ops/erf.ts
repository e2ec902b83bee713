/**
 * erf in float64 to ~1e-15 (JavaScript has no Math.erf): the Maclaurin series below |x| = 3, the continued
 * fraction of erfc above. GELU's float reference; test/fixed/new-activations.test.ts checks it against
 * Python's math.erf (test/fixtures/ops/erf.csv).
 */
export function erf(x: number): number {
  const z = Math.abs(x)
  let r: number
  if (z < 3) {
    let term = z
    let sum = z
    for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-z * z) / n
      sum += term / (2 * n + 1)
    }
    r = (2 / Math.sqrt(Math.PI)) * sum
  } else {
    // erfc(z) = e^-z² / √π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + 2/(z + …))))), evaluated from the tail
    let f = z
    for (let k = 80; k >= 1; k--) f = z + k / 2 / f
    r = 1 - Math.exp(-z * z) / Math.sqrt(Math.PI) / f
  }
  return x < 0 ? -r : r
}

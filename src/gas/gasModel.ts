import type { GasFeatures } from './features.ts'

/**
 * The analytic gas model of the `datacontract` layout, linear in its coefficients:
 *   batch(B)  = a0 + a1·blobBytes + a2·chunks + a3·memQuad + B·(r0 + r1·rowBytes + r2·macWords + r3·outputs + r4·exps + r5·decodes)
 *   predict   = batch(1)
 *   deploy    = d0 + d1·runtimeBytes            (code deposit 200/byte + initcode calldata)
 *   upload    = chunks·u0 + u1·blobBytes         (per chunk: tx base, CREATE, SSTORE; per byte: deposit + calldata)
 * memQuad is the quadratic memory term words²/512 (weights are expanded into lane words in memory).
 * The coefficients are fitted by least squares to measured gas (bench/run.ts writes them to
 * src/gas/coefficients.json); `ml2sc gas` applies them with no chain.
 */
/** `adminLibrary`: the shared admin library's deployment as measured (once per chain, not per model). */
export type Coefficients = { batch: number[]; deploy: number[]; upload: number[]; adminLibrary?: number }

export function batchTerms(f: GasFeatures & { memWords: number }, rows: number): number[] {
  return [1, f.blobBytes, f.chunks, f.memWords ** 2 / 512, rows, rows * f.rowBytes, rows * f.macWords, rows * f.outputs, rows * f.exps, rows * f.decodes]
}

export const dot = (c: number[], x: number[]) => c.reduce((s, ci, i) => s + ci * x[i]!, 0)

export function predictGas(c: Coefficients, f: GasFeatures & { memWords: number; runtimeBytes: number }, embedded: boolean) {
  const perRowTerms = (rows: number) => batchTerms(f, rows)
  const batch = (rows: number) => Math.round(dot(c.batch, perRowTerms(rows)))
  return {
    deploy: Math.round(dot(c.deploy, [1, f.runtimeBytes])),
    upload: embedded ? 0 : Math.round(dot(c.upload, [f.chunks, f.blobBytes])),
    update: Math.round(dot(c.upload, [f.chunks, f.blobBytes])),
    predictSingle: batch(1),
    batch,
    perRow: (rows: number) => Math.round(batch(rows) / rows),
    /** Rows per transaction that fit under `cap` with 10% headroom (0 when not even one row fits). */
    maxRows: (cap: number) => {
      const one = batch(1)
      const each = batch(2) - one
      return one > cap * 0.9 ? 0 : Math.floor((cap * 0.9 - one) / Math.max(each, 1)) + 1
    },
  }
}

/**
 * Least squares minimising RELATIVE error (each row weighted by 1/y, so a 30-parameter model counts as
 * much as a 100k-parameter one), via the normal equations with Gaussian elimination and pivoting.
 */
export function leastSquares(X0: number[][], y0: number[]): number[] {
  const X = X0.map((r, k) => r.map((v) => v / y0[k]!))
  const y = y0.map(() => 1)
  const n = X[0]!.length
  // scale columns for conditioning
  const scale = Array.from({ length: n }, (_, j) => Math.max(...X.map((r) => Math.abs(r[j]!))) || 1)
  const Xs = X.map((r) => r.map((v, j) => v / scale[j]!))
  const A = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => Xs.reduce((s, r) => s + r[i]! * r[j]!, 0) + (i === j ? 1e-12 : 0)))
  const b = Array.from({ length: n }, (_, i) => Xs.reduce((s, r, k) => s + r[i]! * y[k]!, 0))
  for (let col = 0; col < n; col++) {
    let p = col
    for (let r = col + 1; r < n; r++) if (Math.abs(A[r]![col]!) > Math.abs(A[p]![col]!)) p = r
    ;[A[col], A[p]] = [A[p]!, A[col]!]
    ;[b[col], b[p]] = [b[p]!, b[col]!]
    for (let r = 0; r < n; r++) {
      if (r === col || A[col]![col] === 0) continue
      const f = A[r]![col]! / A[col]![col]!
      for (let k = col; k < n; k++) A[r]![k]! -= f * A[col]![k]!
      b[r]! -= f * b[col]!
    }
  }
  return b.map((v, i) => (A[i]![i] ? v / A[i]![i]! / scale[i]! : 0))
}

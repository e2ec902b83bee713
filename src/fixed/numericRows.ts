import { opOf } from '../ir/ops/index.ts'
import type { Activation } from '../ir/types.ts'

/**
 * A batch of rows in doubles for the simulator's exact fast path (simulateBatch.ts): `rows` rows of `width`
 * values, row-major in one flat Float64Array. Every value is an integer below 2^53 in magnitude, so a double
 * holds it exactly. `ok[r]` is cleared when row r leaves what doubles can do exactly (a sum that could reach
 * 2^53, an activation's result beyond it): the driver recomputes such rows with BigInt.
 */
export type NumericRows = { rows: number; width: number; x: Float64Array; ok: Uint8Array }

/** Integers below 2^53 are exact in a double; sums are kept below half of it (the bounds are themselves rounded). */
export const EXACT = 2 ** 53
export const SUM_LIMIT = 2 ** 52

/** Largest |value| of row r (0 for a row already dropped). */
export function rowMaxAbs(b: NumericRows, r: number): number {
  let m = 0
  const end = (r + 1) * b.width
  for (let i = r * b.width; i < end; i++) {
    const v = b.x[i]!
    const a = v < 0 ? -v : v
    if (a > m) m = a
  }
  return m
}

/** Exact bigint → double, or undefined when |v| ≥ 2^53 (the row then needs BigInt). */
export function toExactNumber(v: bigint): number | undefined {
  // Number() rounds to nearest, monotonically: |v| ≥ 2^53 shows as a double ≥ 2^53, and below it is exact
  const n = Number(v)
  return n < EXACT && n > -EXACT ? n : undefined
}

/**
 * The activation over every live row, in place: ReLU and identity in doubles (exact: they only compare);
 * any other op through its BigInt twin (ir/ops), row by row, so that the numbers are the contract's.
 */
export function activateRows(b: NumericRows, a: Activation, slopeQ: bigint, ctx: { scale: bigint; slopeBits: number }): void {
  if (a.kind === 'identity') return
  const x = b.x
  if (a.kind === 'relu') {
    for (let i = 0; i < x.length; i++) if (x[i]! < 0) x[i] = 0
    return
  }
  const op = opOf(a)
  const w = b.width
  const row = new Array<bigint>(w)
  for (let r = 0; r < b.rows; r++) {
    if (!b.ok[r]) continue
    for (let i = 0; i < w; i++) row[i] = BigInt(x[r * w + i]!)
    const y = op.fixed(row, a, slopeQ, ctx)
    for (let i = 0; i < w; i++) {
      const v = toExactNumber(y[i]!)
      if (v === undefined) {
        b.ok[r] = 0
        break
      }
      x[r * w + i] = v
    }
  }
}

/** The rows as doubles, each row ok only when all its values are below 2^53. */
export function rowsFromBigInts(inputs: bigint[][], width: number): NumericRows {
  const x = new Float64Array(inputs.length * width)
  const ok = new Uint8Array(inputs.length).fill(1)
  inputs.forEach((row, r) => {
    if (row.length !== width) ok[r] = 0
    else
      for (let i = 0; i < width; i++) {
        const v = toExactNumber(row[i]!)
        if (v === undefined) {
          ok[r] = 0
          break
        }
        x[r * width + i] = v
      }
  })
  return { rows: inputs.length, width, x, ok }
}

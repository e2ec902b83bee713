/** Integers below 2^53 are exact in a double: a sum whose every partial sum stays below is computed exactly. */
export const EXACT = 2n ** 53n

/** The largest |v| of `x`. */
export function maxAbs(x: bigint[]): bigint {
  let m = 0n
  for (const v of x) {
    const a = v < 0n ? -v : v
    if (a > m) m = a
  }
  return m
}
const bitLength = (v: bigint) => (v === 0n ? 0 : v.toString(2).length)

type Split = { hi: number[]; lo: number[]; hiSums: bigint[] }
const cache = new WeakMap<object, Map<number, Split>>()

/**
 * Where one sum in doubles would pass 2^53 (weights at 2^31 while precision is chosen): each weight split
 * as hi·2^L + lo with 0 ≤ lo < 2^L, so that Σ lo·x stays below 2^53 (perOut·2^L·max|x|) and Σ hi·x too
 * (Σ|hi|·max|x|, per output): two exact sums in doubles, which the caller joins in BigInt as
 * (Σ hi·x)·2^L + Σ lo·x. `weights` (flat, `perOut` per output, row-major) is read only when `key` (the
 * layer) has no split for this L yet. Undefined when no L does (BigInt then).
 */
export function weightLimbs(key: object, weights: () => bigint[], outputs: number, perOut: number, x: bigint[]): { L: number; hi: number[]; lo: number[] } | undefined {
  const xMax = maxAbs(x)
  if (xMax === 0n || xMax >= EXACT) return undefined
  // the largest L with perOut·2^L·xMax < 2^53
  const L = 52 - bitLength(BigInt(perOut) * xMax)
  if (L < 1) return undefined
  let byL = cache.get(key)
  if (!byL) cache.set(key, (byL = new Map()))
  let split = byL.get(L)
  if (!split) {
    const w = weights()
    const B = BigInt(L)
    const hiQ = w.map((v) => v >> B) // floor: lo = w − hi·2^L is in [0, 2^L)
    const hiSums = Array.from({ length: outputs }, (_, o) => hiQ.slice(o * perOut, (o + 1) * perOut).reduce((a, h) => a + (h < 0n ? -h : h), 0n))
    split = { hi: hiQ.map(Number), lo: w.map((v, i) => Number(v - (hiQ[i]! << B))), hiSums }
    byL.set(L, split)
  }
  for (const h of split.hiSums) if (h * xMax >= EXACT) return undefined
  return { L, hi: split.hi, lo: split.lo }
}

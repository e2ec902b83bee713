import { NumericsError } from '../../errors/base.ts'

/** Round half away from zero, exactly, for a float times 2^e. */
export function quantize(x: number, e: number): bigint {
  if (!Number.isFinite(x)) throw new NumericsError(`non-finite value ${x}`)
  const scaled = x * 2 ** e
  if (Math.abs(scaled) < 2 ** 52) return BigInt(Math.round(Math.abs(scaled))) * (scaled < 0 ? -1n : 1n)
  return BigInt(Math.round(scaled)) // integral already at this magnitude
}

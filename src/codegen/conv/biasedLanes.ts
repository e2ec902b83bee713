import { activationExpr } from '../dense/activationYul.ts'
import type { ConvStep } from './convTypes.ts'

/**
 * The offset added to every lane of a packed conv's accumulator (its bias word holds it, convYul.ts convPackYul)
 * so that lanes are unsigned: 2^(b−2) when interval analysis leaves the top bit of every lane free
 * (|acc| < 2^(b−2)), else 2^(b−1).
 */
export function biasedLaneHalf(s: ConvStep): bigint {
  const b = BigInt(s.laneBits)
  return s.accMax !== undefined && s.accMax < 1n << (b - 2n) ? 1n << (b - 2n) : 1n << (b - 1n)
}

/**
 * Lane k of `acc` rescaled (before the activation), when every lane carries the offset H = biasedLaneHalf: lanes
 * are then unsigned, so no lane borrows from the next and lane k is and(shr(k·b, acc), 2^b − 1) − H. When H is a
 * multiple of 2^wShift the rescale folds into the shift: floor((lane − H) / 2^wShift) = (lane >> wShift) −
 * (H >> wShift), one SHR, one AND and one SUB. One lane (no offset in its bias word): sar(wShift, acc).
 */
export function biasedLaneValue(s: ConvStep, lanes: number, k: number, acc = 'acc'): string {
  return lanes === 1 ? `sar(${s.wShift}, ${acc})` : unbiasedField(acc, k, s.laneBits, s.wShift, biasedLaneHalf(s))
}

/** Each lane of `acc` (offset as biasedLaneValue says) to the output, rescaled and activated. */
export function unpackBiasedLanes(s: ConvStep, lanes: number, outAt: (k: number) => string): string[] {
  const act = activationExpr(s.activation, 'v', s.slopeQ)
  return Array.from({ length: lanes }, (_, k) => `{ let v := ${biasedLaneValue(s, lanes, k)} mstore(${outAt(k)}, ${act}) }`)
}

/**
 * Lane k (b bits) of the word `r`, less its offset `off`, rescaled: floor((field − off) / 2^wShift). When `off` is
 * a multiple of 2^wShift the rescale folds into the shift, (field >> wShift) − (off >> wShift), exactly (field ≥ 0).
 */
export function unbiasedField(r: string, k: number, b: number, wShift: number, off: bigint): string {
  const ws = BigInt(wShift)
  if (wShift < b && off % (1n << ws) === 0n) {
    const shift = k * b + wShift
    return `sub(and(${shift ? `shr(${shift}, ${r})` : r}, 0x${((1n << BigInt(b - wShift)) - 1n).toString(16)}), 0x${(off >> ws).toString(16)})`
  }
  return `sar(${wShift}, sub(and(${k ? `shr(${k * b}, ${r})` : r}, 0x${((1n << BigInt(b)) - 1n).toString(16)}), 0x${off.toString(16)}))`
}

import type { YulHelper } from './types.ts'

const M256 = (1n << 256n) - 1n
const lt = (a: bigint, b: bigint) => (a < b ? 1n : 0n)
/** The EVM's DIV: x / 0 = 0. */
const div = (a: bigint, b: bigint) => (b === 0n ? 0n : a / b)

/**
 * floor(√x) for 0 ≤ x < 2^256, step for step what the contract's `isqrt` computes (Solady's
 * FixedPointMathLib.sqrt: an estimate from the bit length, seven Babylonian steps, then the floor fix-up).
 * Any correct integer square root gives the same number; the steps are kept identical so that a reader can
 * check the Yul against this line by line. test/fixed/layerNorm.test.ts checks it against an exact root.
 */
export function isqrt(x: bigint): bigint {
  if (x < 0n || x > M256) throw new RangeError(`isqrt of ${x}: outside [0, 2^256)`)
  let r = lt(0xffffffffffffffffffffffffffffffffffn, x) << 7n
  r |= lt(0xffffffffffffffffffn, x >> r) << 6n
  r |= lt(0xffffffffffn, x >> r) << 5n
  r |= lt(0xffffffn, x >> r) << 4n
  let z = 181n << (r >> 1n)
  z = (z * ((x >> r) + 65536n)) >> 18n
  for (let i = 0; i < 7; i++) z = (z + div(x, z)) >> 1n
  return z - lt(div(x, z), z)
}

/** The Yul twin of `isqrt`. */
export const isqrtHelper = (): YulHelper => ({
  name: 'isqrt',
  order: 30,
  text: `function isqrt(x) -> z {
                let r := shl(7, lt(0xffffffffffffffffffffffffffffffffff, x))
                r := or(r, shl(6, lt(0xffffffffffffffffff, shr(r, x))))
                r := or(r, shl(5, lt(0xffffffffff, shr(r, x))))
                r := or(r, shl(4, lt(0xffffff, shr(r, x))))
                z := shl(shr(1, r), 181)
                z := shr(18, mul(z, add(shr(r, x), 65536)))
                z := shr(1, add(z, div(x, z)))
                z := shr(1, add(z, div(x, z)))
                z := shr(1, add(z, div(x, z)))
                z := shr(1, add(z, div(x, z)))
                z := shr(1, add(z, div(x, z)))
                z := shr(1, add(z, div(x, z)))
                z := shr(1, add(z, div(x, z)))
                z := sub(z, lt(div(x, z), z))
            }`,
})

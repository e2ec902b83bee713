/** Write `v` at `at` as a big-endian two's-complement integer of `bytes` bytes (the blob's weight fields). */
export function writeInt(out: Uint8Array, at: number, v: bigint, bytes: number) {
  let x = BigInt.asUintN(8 * bytes, v)
  for (let b = bytes - 1; b >= 0; b--) {
    out[at + b] = Number(x & 0xffn)
    x >>= 8n
  }
}

/**
 * Write `v` as a two's-complement field of `bits` bits (a multiple of 4: int4 weights are nibbles) at bit
 * `at` of `out`, counted from the first byte's most significant bit (big-endian, as MLOAD reads).
 */
export function writeBits(out: Uint8Array, at: number, v: bigint, bits: number) {
  if (at % 8 === 0 && bits % 8 === 0) return writeInt(out, at / 8, v, bits / 8)
  const x = BigInt.asUintN(bits, v)
  for (let b = 0; b < bits; b += 4) {
    const nib = Number((x >> BigInt(bits - 4 - b)) & 0xfn)
    const pos = at + b
    const byte = pos >> 3
    out[byte] = pos % 8 === 0 ? (out[byte]! & 0x0f) | (nib << 4) : (out[byte]! & 0xf0) | nib
  }
}

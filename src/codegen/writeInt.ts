/** Write `v` at `at` as a big-endian two's-complement integer of `bytes` bytes (the blob's weight fields). */
export function writeInt(out: Uint8Array, at: number, v: bigint, bytes: number) {
  let x = BigInt.asUintN(8 * bytes, v)
  for (let b = bytes - 1; b >= 0; b--) {
    out[at + b] = Number(x & 0xffn)
    x >>= 8n
  }
}

import { toHex, type Hex } from 'viem'

/**
 * Where the embedded weights (and, for a blob solc inlines, their commitment) sit in the compiled code
 * (datacontract layout with weights in the code): once an update has moved the weights to data
 * contracts, those bytes are dead and may be another model's. Only bytes that are data, never opcodes:
 * a blob of more than 32 bytes is the code's tail (where the admin library hashes it) and nothing else;
 * a blob solc inlines (≤ 32 bytes) and the commitment the model hands over are matched only inside PUSH
 * data. (Matching the blob anywhere let a publisher choose weights that encode to a stretch of inference
 * code, and a forgery rewrite that code.)
 */
export function embeddedWeightRanges(deployedBytecode: Hex, blob: Uint8Array, commitment: Hex): { start: number; length: number; what: string }[] {
  const code = deployedBytecode.slice(2).toLowerCase()
  const bytes = code.length / 2
  const blobHex = toHex(blob).slice(2)
  if (blob.length > 32) return code.endsWith(blobHex) ? [{ start: bytes - blob.length, length: blob.length, what: 'the embedded weights' }] : []
  // PUSH data spans [from, to) of the code, from its opcodes
  const pushes: [number, number][] = []
  for (let i = 0; i < bytes; i++) {
    const op = parseInt(code.slice(2 * i, 2 * i + 2), 16)
    if (op >= 0x60 && op <= 0x7f) pushes.push([i + 1, i + 1 + op - 0x5f]), (i += op - 0x5f)
  }
  const ranges: { start: number; length: number; what: string }[] = []
  for (const [part, what] of [[blobHex, 'the embedded weights'], [commitment.slice(2).toLowerCase(), 'the embedded commitment']] as const) {
    for (let at = code.indexOf(part); at >= 0; at = code.indexOf(part, at + 1)) {
      const start = at / 2
      const end = start + part.length / 2
      if (at % 2 === 0 && pushes.some(([from, to]) => from <= start && end <= to)) ranges.push({ start, length: part.length / 2, what })
    }
  }
  return ranges
}

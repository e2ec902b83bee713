import { toHex, type Hex } from 'viem'

/**
 * Where the embedded weights sit in the compiled code (datacontract layout with weights in the code): once
 * an update has moved the weights to data contracts, those bytes are dead and may be another model's.
 * They are the code's tail and nothing else (embedsWeights never embeds a blob of ≤ 32 bytes, which solc
 * would inline as PUSH data): only data, never opcodes, is let differ. (Matching the blob anywhere let a
 * publisher choose weights that encode to a stretch of inference code, and a forgery rewrite that code.)
 */
export function embeddedWeightRanges(deployedBytecode: Hex, blob: Uint8Array): { start: number; length: number; what: string }[] {
  const code = deployedBytecode.slice(2).toLowerCase()
  const bytes = code.length / 2
  if (blob.length <= 32 || !code.endsWith(toHex(blob).slice(2))) return []
  return [{ start: bytes - blob.length, length: blob.length, what: 'the embedded weights' }]
}

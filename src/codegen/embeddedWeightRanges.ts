import { toHex, type Hex } from 'viem'

/**
 * Every place in the compiled code where the embedded weights or their commitment sit (datacontract
 * layout with weights in the code): once an update has moved the weights to data contracts, those bytes
 * are dead and may be another model's.
 */
export function embeddedWeightRanges(deployedBytecode: Hex, blob: Uint8Array, commitment: Hex): { start: number; length: number; what: string }[] {
  const code = deployedBytecode.slice(2).toLowerCase()
  const ranges: { start: number; length: number; what: string }[] = []
  for (const [part, what] of [[toHex(blob).slice(2), 'the embedded weights'], [commitment.slice(2).toLowerCase(), 'the embedded commitment']] as const) {
    for (let at = code.indexOf(part); at >= 0; at = code.indexOf(part, at + 1)) if (at % 2 === 0) ranges.push({ start: at / 2, length: part.length / 2, what })
  }
  return ranges
}

import { toHex, type Hex } from 'viem'
import type { CompiledContract } from '../compile/compileSolidity.ts'
import { codeDifference } from '../compile/runtimeCodeHash.ts'

export type WeightRange = { start: number; length: number; what: string }

/**
 * Every place in the compiled code where the embedded weights or their commitment sit (datacontract
 * layout with weights in the code): once an update has moved the weights to data contracts, those bytes
 * are dead and may be another model's.
 */
export function embeddedWeightRanges(deployedBytecode: Hex, blob: Uint8Array, commitment: Hex): WeightRange[] {
  const code = deployedBytecode.slice(2).toLowerCase()
  const ranges: WeightRange[] = []
  for (const [part, what] of [[toHex(blob).slice(2), 'the embedded weights'], [commitment.slice(2).toLowerCase(), 'the embedded commitment']] as const) {
    for (let at = code.indexOf(part); at >= 0; at = code.indexOf(part, at + 1)) if (at % 2 === 0) ranges.push({ start: at / 2, length: part.length / 2, what })
  }
  return ranges
}

/**
 * Whether the code on chain is this compiled model contract (immutables zeroed): the one code check of
 * `verify`, `predict` and `update`. `outside`: the first differing byte outside the embedded weights and
 * their commitment (when `embedded` names them), which no update can explain; `inWeights`: the first
 * differing byte at all when there are embedded weights (it is inside them when `outside` is undefined):
 * allowed only once an update has moved the weights to data contracts.
 */
export function modelCodeDifference(
  code: Hex | undefined,
  compiled: Pick<CompiledContract, 'deployedBytecode' | 'immutables'>,
  embedded?: { blob: Uint8Array; commitment: Hex },
): { outside?: number; inWeights?: number; ranges: WeightRange[] } {
  const ranges = embedded ? embeddedWeightRanges(compiled.deployedBytecode, embedded.blob, embedded.commitment) : []
  const outside = codeDifference(code, compiled, { ignore: ranges })
  const inWeights = outside === undefined && ranges.length ? codeDifference(code, compiled) : undefined
  return { outside, inWeights, ranges }
}

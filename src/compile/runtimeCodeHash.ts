import { keccak256, type Hex } from 'viem'

type Ranges = readonly { start: number; length: number }[]

/** Runtime code with its immutables (the model's deployer) zeroed, as solc's deployedBytecode has them. */
export function zeroImmutables(code: Hex, immutables: Ranges = []): Hex {
  if (!immutables.length) return code
  const bytes = Buffer.from(code.slice(2), 'hex')
  for (const { start, length } of immutables) bytes.fill(0, start, Math.min(start + length, bytes.length))
  return `0x${bytes.toString('hex')}`
}

/** The identity of compiled code: equal for the code on chain and for solc's deployedBytecode, whoever deployed it. */
export const runtimeCodeHash = (code: Hex, immutables: Ranges = []): Hex => keccak256(zeroImmutables(code, immutables))

/** Whether `code` (read from a chain) is this compiled contract, whoever deployed it. */
export const isCompiledCode = (code: Hex, compiled: { deployedBytecode: Hex; immutables: Ranges }): boolean =>
  runtimeCodeHash(code, compiled.immutables) === keccak256(compiled.deployedBytecode)

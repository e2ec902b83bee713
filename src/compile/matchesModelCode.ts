import { toHex, type Hex } from 'viem'
import { commitmentOf } from '../codegen/weightBlob.ts'
import { zeroImmutables } from './runtimeCodeHash.ts'

/**
 * Whether `code` (read from a chain) is the compiled contract `deployedBytecode`, allowing for one thing:
 * a contract deployed with its initial weights in its own code and updated since. Its code still holds the
 * initial weights and their commitment where `blob` (the weights now) and its commitment are in the newly
 * compiled code; those two spans may differ, nothing else. Whether the contract answers with `blob` is
 * then for its `commitment()` to say.
 */
export function matchesModelCode(code: Hex, compiled: { deployedBytecode: Hex; immutables?: readonly { start: number; length: number }[] }, blob: Uint8Array): boolean {
  let onChain = zeroImmutables(code, compiled.immutables ?? []).slice(2).toLowerCase()
  const wanted = compiled.deployedBytecode.slice(2).toLowerCase()
  if (onChain === wanted) return true
  if (onChain.length !== wanted.length) return false
  for (const part of [toHex(blob).slice(2), commitmentOf(blob).slice(2)]) {
    const at = wanted.indexOf(part)
    if (at >= 0) onChain = onChain.slice(0, at) + part + onChain.slice(at + part.length)
  }
  return onChain === wanted
}

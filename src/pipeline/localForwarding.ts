import { toHex, type Hex } from 'viem'
import { generateSolidity, isForwardingModel, type GenerateOptions } from '../codegen/generateSolidity.ts'
import { forwardingPrefix } from '../codegen/forwarding/forwardingModel.ts'
import { commitmentOf, encodeWeights } from '../codegen/weights/weightBlob.ts'
import { compileSolidity } from '../compile/compileSolidity.ts'
import type { Plan } from '../fixed/types.ts'
import { updatePayload } from './updatePayload.ts'
import type { LocalForwarding } from '../chain/verifyModel.ts'

/**
 * For a forwarding model, its kernel contract for `plan`'s weights and the prefix of `deployedBytecode`
 * (this config's compiled model) that an updated model still runs, made when first asked for; undefined
 * for every other contract. Compiles the kernel, and the model once more with every bit of the commitment
 * flipped (to find the bytes that depend on it). `fresh` (verify): both compiles with solc itself, never
 * from ML2SC_COMPILE_CACHE (compileSolidity's `fresh`).
 */
export function localForwarding(plan: Plan, gen: GenerateOptions, deployedBytecode: Hex, opts: { hardfork?: string; fresh?: boolean } = {}): (() => LocalForwarding) | undefined {
  if (!isForwardingModel(plan, gen)) return undefined
  let made: LocalForwarding | undefined
  // made on first use: a model that never held wei is compared whole, with neither compile
  return () => (made ??= makeLocalForwarding(plan, gen, deployedBytecode, opts))
}

function makeLocalForwarding(plan: Plan, gen: GenerateOptions, deployedBytecode: Hex, opts: { hardfork?: string; fresh?: boolean }): LocalForwarding {
  const flipped = toHex(BigInt(commitmentOf(encodeWeights(plan))) ^ ((1n << 256n) - 1n), { size: 32 })
  const other = compileSolidity(generateSolidity(plan, { ...gen, commitmentOverride: flipped }), gen.contractName, opts).deployedBytecode
  const prefix = forwardingPrefix(deployedBytecode, other)
  if (!prefix) throw new Error('internal error: the forwarding model\'s code is not laid out as forwardingModel.ts describes (no forward before its kernel)')
  return { kernel: toHex(updatePayload(plan, gen, opts).data), prefix }
}

import type { Hex } from 'viem'
import { chunkSizeFor, generateSolidity, isForwardingModel, type GenerateOptions } from '../codegen/generateSolidity.ts'
import { kernelPayload } from '../codegen/forwarding/forwardingModel.ts'
import { chunkSizes, commitmentOf, encodeWeights } from '../codegen/weights/weightBlob.ts'
import { compileSolidity } from '../compile/compileSolidity.ts'
import type { Plan } from '../fixed/types.ts'

/**
 * What an update of a contract generated with `gen` uploads for `plan`'s weights: the canonical blob in
 * chunks, or (a forwarding model, forwardingModel.ts) one kernel contract, its runtime code compiled for
 * these weights followed by the blob, whose tail the admin library hashes for the commitment. `fresh`: the
 * kernel compiled with solc itself (verify's comparison), never read from ML2SC_COMPILE_CACHE.
 */
export function updatePayload(plan: Plan, gen: GenerateOptions, opts: { hardfork?: string; fresh?: boolean } = {}): { data: Uint8Array; sizes: number[]; commitment: Hex; kernel?: Hex } {
  const layout = gen.layout ?? 'datacontract'
  const blob = encodeWeights(plan)
  if (isForwardingModel(plan, gen)) {
    const name = `${gen.contractName}Kernel`
    const k = compileSolidity(generateSolidity(plan, { ...gen, contractName: name, kernelOnly: true }), name, opts)
    const { payload, commitment } = kernelPayload(k.deployedBytecode, plan)
    return { data: payload, sizes: [payload.length], commitment, kernel: k.deployedBytecode }
  }
  return { data: blob, sizes: chunkSizes(blob.length, chunkSizeFor(layout, gen.chunkSize)), commitment: commitmentOf(blob) }
}

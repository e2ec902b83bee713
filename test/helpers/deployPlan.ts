import type { ChainSession } from '../../src/chain/connectChain.ts'
import { deployModel } from '../../src/chain/deployModel.ts'
import { uploadWeights } from '../../src/chain/uploadWeights.ts'
import { chunkSizeFor, embedsWeights, generateSolidity, type WeightLayout } from '../../src/codegen/generateSolidity.ts'
import { chunkSizes, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import type { Plan } from '../../src/fixed/types.ts'

/**
 * A plan's contract as the fuzz files run it: generated, compiled (real solc), deployed on `s` and, unless
 * the weights are embedded in its code, its blob uploaded in chunks. Returns what the caller checks against.
 */
export async function deployPlan(s: ChainSession, plan: Plan, o: { name: string; layout?: WeightLayout; chunkSize?: number; embed?: boolean }) {
  const layout = o.layout ?? 'datacontract'
  const chunkSize = chunkSizeFor(layout, o.chunkSize)
  const opts = { contractName: o.name, chunkSize, embedWeights: o.embed, layout }
  const compiled = compileSolidity(generateSolidity(plan, opts), o.name)
  const { address } = await deployModel(s, compiled.bytecode, compiled.abi)
  const blob = encodeWeights(plan)
  const embedded = embedsWeights(plan, opts)
  if (!embedded) await uploadWeights(s, address, compiled.abi, blob, chunkSizes(blob.length, chunkSize))
  return { compiled, address, layout, embedded, blob }
}

// Deploy a model's contract on a test chain (generateSolidity, solc, upload when not embedded) and call it.
import { decodeAbiParameters, encodeFunctionData } from 'viem'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { deployModel } from '../../src/chain/deployModel.ts'
import { predictBatchTx } from '../../src/chain/evaluateOnChain.ts'
import { uploadWeights } from '../../src/chain/uploadWeights.ts'
import { chunkSizeFor, embedsWeights, generateSolidity, type WeightLayout } from '../../src/codegen/generateSolidity.ts'
import { chunkSizes, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { packRowWords } from '../../src/fixed/encodeRows.ts'
import type { Plan } from '../../src/fixed/types.ts'

/** Deploy (and upload) a model's contract; returns a function giving the chain's outputs for rows. */
export async function deployCnn(s: ChainSession, plan: Plan, name: string, layout: WeightLayout = 'datacontract', embed?: boolean, chunkSize?: number) {
  const opts = { contractName: name, layout, embedWeights: embed, chunkSize: chunkSizeFor(layout, chunkSize) }
  const compiled = compileSolidity(generateSolidity(plan, opts), name)
  const { address } = await deployModel(s, compiled.bytecode, compiled.abi)
  const blob = encodeWeights(plan)
  const uploads = embedsWeights(plan, opts) ? [] : await uploadWeights(s, address, compiled.abi, blob, chunkSizes(blob.length, opts.chunkSize))
  const predict = async (row: bigint[]) => {
    const data = encodeFunctionData({ abi: compiled.abi, functionName: 'predict', args: [packRowWords(plan, row)] })
    const { data: ret } = await s.publicClient.call({ account: s.account, to: address, data, gas: 16_000_000n })
    return decodeAbiParameters([{ type: 'int256[]' }], ret!)[0] as readonly bigint[]
  }
  const batch = async (rows: bigint[][]) => await predictBatchTx(s, address, compiled.abi, plan, rows, name, BigInt(s.txGasCap))
  /** Gas of one `predict` transaction (sent, not estimated). */
  const predictTxGas = async (row: bigint[]) => {
    const data = encodeFunctionData({ abi: compiled.abi, functionName: 'predict', args: [packRowWords(plan, row)] })
    const hash = await s.walletClient.sendTransaction({ account: s.account, chain: s.chain, to: address, data, gas: 16_000_000n })
    const rc = await s.publicClient.waitForTransactionReceipt({ hash })
    if (rc.status !== 'success') throw new Error('predict reverted')
    return Number(rc.gasUsed)
  }
  return { compiled, address, predict, batch, predictTxGas, uploads }
}


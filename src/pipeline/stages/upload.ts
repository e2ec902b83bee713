import type { Hex } from 'viem'
import type { ChainSession } from '../../chain/connectChain.ts'
import { requireOwnerKey } from '../../chain/requireOwnerKey.ts'
import { checkChunksFit } from '../../chain/checkChunksFit.ts'
import { estimateUploadGas, guardSpend } from '../../chain/spendGuard.ts'
import { uploadWeights } from '../../chain/uploadWeights.ts'
import { uploadStatePath } from '../../chain/uploadState.ts'
import { withChainState, type Deployment } from '../../chain/deploymentFile.ts'
import { commitmentOf, encodeWeights } from '../../codegen/weights/weightBlob.ts'
import { isForwardingModel } from '../../codegen/generateSolidity.ts'
import { updatePayload } from '../updatePayload.ts'
import type { Config } from '../../config/types.ts'
import { ChainError, Ml2scError } from '../../errors/base.ts'
import type { Logger } from '../../ui/logger.ts'
import {
  DEPLOYMENT_FILE,
  outLabel,
  readCompiledArtifact,
  readDeploymentArtifact,
  readPlanArtifact,
  runFirst,
  writeArtifact,
  type DeploymentArtifact,
} from '../artifacts.ts'
import { checkDeployment, openChain } from '../openChain.ts'

export type UploadResult = {
  deployment: DeploymentArtifact
  /** Chunks sent by this call (0 when the weights were already on chain). */
  sent: number
  /** The chunk this call started from (> 0 when it resumed an interrupted upload). */
  from: number
  gas: number
}

/**
 * Stage 4: deployment.json + plan.json → the weights on chain, one data-contract chunk per transaction.
 * deployment.json is updated after every confirmed chunk, so an interrupted upload resumes where the
 * chain says it stopped; weights already on chain (same commitment) are not sent again.
 */
export async function uploadStage(config: Config, log: Logger, opts: { session?: ChainSession } = {}): Promise<UploadResult> {
  const { artifact: planA, plan } = await readPlanArtifact(config)
  const compiled = await readCompiledArtifact(config, planA)
  const dep = await readDeploymentArtifact(config, compiled)
  const blob = encodeWeights(plan)
  if (commitmentOf(blob) !== planA.weights.commitment)
    throw new Ml2scError(`${outLabel(config)}plan.json does not match its own weight commitment (edited?): ${runFirst(config, 'generate')} again`)
  // a forwarding model (forwardingModel.ts) takes new weights as its kernel contract: runtime ++ blob, one chunk
  const gen = { contractName: planA.contractName, layout: planA.layout, chunkSize: planA.weights.chunkSize }
  const payload = isForwardingModel(plan, gen) ? updatePayload(plan, gen, { hardfork: config.chain.hardfork }) : undefined
  const data = payload?.data ?? blob
  const chunks = payload?.sizes ?? planA.weights.chunks
  const s = opts.session ?? (await openChain(config, log, 'resume'))
  try {
    await checkDeployment(s, config, dep)
    const read = async <T>(functionName: string) =>
      (await s.publicClient.readContract({ address: dep.address, abi: dep.abi, functionName, args: [] })) as T
    const [written, ready] = await Promise.all([read<bigint>('chunksWritten'), read<boolean>('ready')])
    // (the commitment is only defined once every chunk is there)
    const onChain = ready ? await read<Hex>('commitment') : undefined
    if (ready && onChain === planA.weights.commitment) {
      log.step(`weights already on chain (${dep.transactions.upload.length ? 'uploaded' : "in the contract's code"}; commitment ${onChain.slice(0, 10)}…)`)
      const done = (await withChainState(s, { ...dep, upload: { chunks: chunks.length, written: chunks.length, done: true } } as unknown as Deployment, { chunks: chunks.length })) as unknown as DeploymentArtifact
      await writeArtifact(config, DEPLOYMENT_FILE, done)
      return { deployment: done, sent: 0, from: chunks.length, gas: 0 }
    }
    // resume after the chunks the chain has (a finished upload of other weights starts over at 0)
    const from = ready ? 0 : Number(written)
    let current: DeploymentArtifact = {
      ...dep,
      upload: { chunks: chunks.length, written: from, done: false },
      transactions: { ...dep.transactions, upload: dep.transactions.upload.slice(0, from) },
      gas: { ...dep.gas, upload: dep.gas.upload.slice(0, from) },
    }
    await requireOwnerKey(s, await read<Hex>('owner'), 'the weight upload')
    if (from > 0) log.step(`resume the upload at chunk ${from + 1}/${chunks.length}`)
    // every chunk under the node's block gas limit and chain.txGasCap, before anything is sent
    checkChunksFit(s, data, chunks, dep.abi, planA.layout, from, { deployed: true })
    if (!s.local && !opts.session) {
      const start = chunks.slice(0, from).reduce((a, b) => a + b, 0)
      await guardSpend(s, log, [estimateUploadGas(data.subarray(start), chunks.slice(from), dep.abi)])
    }
    log.step(`upload ${blob.length} bytes of weights (${chunks.length} transaction${chunks.length === 1 ? '' : 's'})`)
    let gas = 0
    const txs = await uploadWeights(s, dep.address, dep.abi, data, chunks, {
      commitment: planA.weights.commitment,
      from,
      stateFile: uploadStatePath(config.output),
      onChunk: async (i, tx) => {
        gas += tx.gasUsed
        current = {
          ...current,
          upload: { chunks: chunks.length, written: i + 1, done: i + 1 === chunks.length },
          transactions: { ...current.transactions, upload: [...current.transactions.upload, tx.hash] },
          gas: { ...current.gas, upload: [...current.gas.upload, tx.gasUsed] },
        }
        await writeArtifact(config, DEPLOYMENT_FILE, current)
      },
      onProgress: (d, t, g) => log.progress('upload', d, t, `${g.toLocaleString('en-US')} gas`),
    })
    const commitment = await read<Hex>('commitment')
    if (commitment !== planA.weights.commitment)
      throw new ChainError(`after the upload the contract's commitment is ${commitment}, expected ${planA.weights.commitment}`, {
        hint: 'the chain holds other weights than plan.json: this is a bug in ml2sc, please report it',
      })
    log.detail(`commitment ${commitment}, ${gas.toLocaleString('en-US')} gas`)
    // the data contracts' addresses, the owner and the model version, read back from the chain
    current = (await withChainState(s, current as unknown as Deployment, { chunks: chunks.length })) as unknown as DeploymentArtifact
    await writeArtifact(config, DEPLOYMENT_FILE, current)
    return { deployment: current, sent: txs.length, from, gas }
  } finally {
    if (!opts.session) await s.close()
  }
}

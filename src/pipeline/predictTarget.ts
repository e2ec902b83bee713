import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { Abi, Hex } from 'viem'
import { embedsWeights, generateSolidity } from '../codegen/generateSolidity.ts'
import { chunkSizes, commitmentOf, encodeWeights } from '../codegen/weights/weightBlob.ts'
import { compileSolidity, type CompiledContract } from '../compile/compileSolidity.ts'
import type { Config } from '../config/types.ts'
import { ChainError, Ml2scError } from '../errors/base.ts'
import { ANVIL_STATE_FILE, configLabel, DEPLOYMENT_FILE } from './artifacts.ts'
import { openChain } from './openChain.ts'
import type { Prepared } from './prepareModel.ts'
import type { Logger } from '../ui/logger.ts'
import { connectChain, type ChainSession } from '../chain/connectChain.ts'
import { deployModel } from '../chain/deployModel.ts'
import { uploadWeights } from '../chain/uploadWeights.ts'
import { verifyModel } from '../chain/verifyModel.ts'
import { localForwarding } from './localForwarding.ts'

/** What answers on chain: a session, the contract and its ABI. */
export type Target = { s: ChainSession; address: Hex; abi: Abi }

type DeploymentFile = { chainId: number; address: Hex; abi?: Abi }

async function readDeployment(config: Config): Promise<DeploymentFile | undefined> {
  const file = path.join(config.output, DEPLOYMENT_FILE)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    return undefined
  }
  try {
    const d = JSON.parse(text) as DeploymentFile
    if (typeof d.chainId === 'number' && typeof d.address === 'string' && /^0x[0-9a-fA-F]{40}$/.test(d.address)) return d
  } catch {}
  throw new Ml2scError(`${file} is not a deployment ml2sc wrote`, { where: file, hint: `run \`ml2sc run ${configLabel(config)}\` again` })
}


/**
 * The deployment to ask. On an RPC chain: the one in deployment.json, checked to be this config's contract
 * with this config's weights. On the embedded anvil: the chain the last run left (anvil-state.json), when
 * it is there and still holds that contract; otherwise a fresh anvil, deploying and uploading on the fly.
 */
export async function openPredictTarget(config: Config, prep: Prepared, compiled: CompiledContract, log: Logger, opts: { tx: boolean; notice: (m: string) => void }): Promise<Target> {
  const blob = encodeWeights(prep.plan)
  const rerun = `run \`ml2sc run ${configLabel(config)}\``
  const dep = await readDeployment(config)
  if (config.chain.rpcUrl) {
    if (!dep)
      throw new ChainError(`no ${DEPLOYMENT_FILE} in ${config.output}: nothing is deployed for this config on ${config.chain.rpcUrl}`, { hint: `${rerun} first (or predict with --offchain)` })
    // calls need no key and can send nothing; only --tx signs
    const s = await connectChain({ ...config.chain, readOnly: !opts.tx })
    try {
      if (dep.chainId !== s.chainId) throw new ChainError(`${DEPLOYMENT_FILE} is for chain ${dep.chainId}, but the RPC is chain ${s.chainId}`, { hint: rerun })
      const problem = await checkModelContract(s, dep.address, config, prep, compiled)
      if (problem) throw new ChainError(problem, { where: dep.address, hint: `${rerun} again (or predict with --offchain)` })
      return { s, address: dep.address, abi: compiled.abi }
    } catch (e) {
      await s.close()
      throw e
    }
  }
  if (!config.chain.fork && dep && existsSync(path.join(config.output, ANVIL_STATE_FILE))) {
    const s = await openChain(config, log, 'resume', { readOnly: !opts.tx })
    const problem = await checkModelContract(s, dep.address, config, prep, compiled).catch((e) => String((e as Error).message ?? e))
    if (!problem) return { s, address: dep.address, abi: compiled.abi }
    await s.close()
    opts.notice(`the saved chain does not hold this config's model (${problem}); deploying on a fresh anvil instead`)
  } else opts.notice(`the embedded anvil of the last run is gone: starting anvil, deploying and uploading the model on the fly`)
  const s = await connectChain(config.chain)
  try {
    const upload = !embedsWeights(prep.plan, prep.generate)
    // a scratch chain whose only account uploads: a model owned by chain.owner is deployed as its own (the
    // same runtime code apart from that immutable, so the same answers)
    const code = upload && prep.generate.owner ? compileSolidity(generateSolidity(prep.plan, { ...prep.generate, owner: undefined }), prep.contractName, { hardfork: config.chain.hardfork }) : compiled
    const { address } = await deployModel(s, code.bytecode, code.abi)
    if (upload) await uploadWeights(s, address, compiled.abi, blob, chunkSizes(blob.length, prep.chunkSize))
    return { s, address, abi: compiled.abi }
  } catch (e) {
    await s.close()
    throw e
  }
}

/**
 * Why the contract at `address` would not answer as this config's model does, or undefined when it would:
 * `ml2sc verify`'s checks (src/chain/verifyModel.ts): its code is what this config compiles to (embedded
 * initial weights may differ only once an update moved the weights to data contracts), the admin library
 * is ml2sc's, the upload is complete, the data contracts hold the chunks, and the chain's commitment is
 * these weights'.
 */
export async function checkModelContract(s: ChainSession, address: Hex, config: Config, prep: Prepared, compiled: CompiledContract): Promise<string | undefined> {
  const blob = encodeWeights(prep.plan)
  const forwarding = localForwarding(prep.plan, prep.generate, compiled.deployedBytecode, { hardfork: config.chain.hardfork })
  const local = {
    compiled,
    blob,
    sizes: chunkSizes(blob.length, prep.chunkSize),
    commitment: commitmentOf(blob),
    embedded: prep.layout === 'datacontract' && embedsWeights(prep.plan, prep.generate),
    ...(forwarding ? { forwarding } : {}),
    layout: prep.layout,
    file: path.relative(process.cwd(), config.model.path) || config.model.path,
  }
  const found = await verifyModel(s, address, local, { configLabel: configLabel(config) })
  return found.problem?.line
}

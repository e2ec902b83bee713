import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { encodeFunctionData, parseEventLogs, toHex, type Hex } from 'viem'
import type { ChainSession } from '../chain/connectChain.ts'
import { readDeployment, writeDeployment, withChainState, type Deployment } from '../chain/deploymentFile.ts'
import { readModelState } from '../chain/modelState.ts'
import { checkChunksFit } from '../chain/checkChunksFit.ts'
import { estimateUploadGas, guardSpend } from '../chain/spendGuard.ts'
import { needsMark, uploadWeights, uploadRecords } from '../chain/uploadWeights.ts'
import { uploadStatePath } from '../chain/uploadState.ts'
import { embedsWeights, generateSolidity } from '../codegen/generateSolidity.ts'
import { chunkSizes, commitmentOf, encodeWeights } from '../codegen/weights/weightBlob.ts'
import { compileSolidity } from '../compile/compileSolidity.ts'
import { codeDifference, prefixDifference } from '../compile/runtimeCodeHash.ts'
import { embeddedWeightRanges } from '../codegen/weights/embeddedWeightRanges.ts'
import { configHashes } from '../config/configHash.ts'
import { updatePayload } from '../pipeline/updatePayload.ts'
import { localForwarding } from '../pipeline/localForwarding.ts'
import { loadConfig } from '../config/loadConfig.ts'
import type { Config } from '../config/types.ts'
import { ChainError } from '../errors/base.ts'
import { openChain } from '../pipeline/openChain.ts'
import { prepareModel, type Prepared } from '../pipeline/prepareModel.ts'
import { DEPLOYMENT_FILE, PLAN_FILE, artifactFileOf, artifactPath, sha256File, type PlanArtifact } from '../pipeline/artifacts.ts'
import { planFromJson, planToJson } from '../pipeline/planJson.ts'
import { writeAtomic } from '../files/writeAtomic.ts'
import type { Logger } from '../ui/logger.ts'
import type { Ml2scCommand } from './context.ts'

/** The plan the deployed contract was generated from (plan.json in the output folder), if there is one. */
async function deployedPlan(config: Config) {
  try {
    const a = JSON.parse(await readFile(artifactPath(config, PLAN_FILE), 'utf8')) as PlanArtifact
    return a?.kind === 'ml2sc/plan' && a.plan ? planFromJson(a.plan) : undefined
  } catch {
    return undefined
  }
}

/**
 * The local model as the deployed contract would hold it: plan, canonical weights, chunks, commitment.
 * The weights are quantised at the deployed plan's scales and lane widths (compiled into its code), so a
 * retrained model can be uploaded to it as long as its weights fit them.
 */
export async function localModel(config: Config) {
  const prep = await prepareModel(config, { deployed: await deployedPlan(config) })
  const chunkSize = prep.chunkSize
  const blob = encodeWeights(prep.plan)
  // what an update sends: the blob's chunks, or a forwarding model's kernel contract (runtime ++ blob, one chunk)
  const upload = updatePayload(prep.plan, prep.generate, { hardfork: config.chain.hardfork })
  return { prep, chunkSize, blob, sizes: chunkSizes(blob.length, chunkSize), commitment: commitmentOf(blob), upload }
}

/** Open the deployment's chain and check that the contract deployment.json names is there. */
export async function openDeployment(config: Config, dep: Deployment, log: Logger): Promise<ChainSession> {
  const s = await openChain(config, log, 'resume')
  try {
    if (s.chainId !== dep.chainId)
      throw new ChainError(`deployment.json is for chain ${dep.chainId}, but the configured chain is ${s.chainId}`, {
        where: 'chain',
        hint: 'point chain.rpcUrl at the chain of the deployment (or use the output folder of this chain with --out)',
      })
    const code = await s.publicClient.getCode({ address: dep.address })
    if (!code || code === '0x')
      throw new ChainError(`no contract at ${dep.address} on chain ${s.chainId}`, { hint: 'the chain was reset, or deployment.json belongs to another chain: deploy again with `ml2sc run`' })
    return s
  } catch (e) {
    await s.close()
    throw e
  }
}

/** The new model must fit the deployed contract: same code (layer sizes, scales, lane widths, chunking). */
async function checkCompatible(s: ChainSession, config: Config, dep: Deployment, prep: Prepared) {
  const name = dep.contractName ?? prep.contractName
  const source = generateSolidity(prep.plan, { ...prep.generate, contractName: name })
  const compiled = compileSolidity(source, name, { hardfork: config.chain.hardfork })
  // solc appends no metadata (compileSolidity), so the code compares whole, immutables (the initial owner)
  // zeroed; a contract deployed with its initial weights in its own code: that blob and its commitment (a
  // constant the contract hands to the admin library) are allowed to differ
  const blob = encodeWeights(prep.plan)
  const onChain = (await s.publicClient.getCode({ address: dep.address })) ?? '0x'
  // a forwarding model: the code an updated model runs (its initial kernel is another's once updated)
  const fw = localForwarding(prep.plan, { ...prep.generate, contractName: name }, compiled.deployedBytecode, { hardfork: config.chain.hardfork })?.()
  const differs = fw ? prefixDifference(onChain, compiled, fw.prefix) : codeDifference(onChain, compiled, { ignore: embeddedWeightRanges(compiled.deployedBytecode, blob) })
  if (differs === undefined) return compiled
  throw new ChainError(`the new weights need a different contract than the one at ${dep.address}: the layer sizes, weight scales or lane widths changed`, {
    where: path.relative(process.cwd(), config.model.path) || config.model.path,
    hint: 'an update keeps the architecture and the fixed-point plan; deploy the new model with `ml2sc run` (or keep batch.upload as it was)',
  })
}

/**
 * Whether a forwarding model runs `kernel`'s weights (runtime ++ blob): its commitment covers only the
 * kernel contract's tail, or is a constant of its code, so an equal commitment alone does not say so. The
 * kernel contract the state word names (`chunks`, only while the model holds wei), else its own code whole,
 * and then no state word while it holds no wei (wei forced in by anyone would switch predict to what it names).
 */
async function runsKernel(s: ChainSession, address: Hex, compiled: { deployedBytecode: Hex; immutables: { start: number; length: number }[] }, kernel: Hex, chunks: Hex[]): Promise<boolean> {
  if (chunks.length) return ((await s.publicClient.getCode({ address: chunks[0]! })) ?? '0x').toLowerCase() === kernel.toLowerCase()
  const named = (await s.publicClient.getBalance({ address })) === 0n && BigInt((await s.publicClient.getStorageAt({ address, slot: toHex(2, { size: 32 }) })) ?? 0) !== 0n
  return !named && codeDifference((await s.publicClient.getCode({ address })) ?? '0x', compiled) === undefined
}

/**
 * plan.json (when the stage commands made one) now describes the new weights, so that a later `evaluate`
 * or `report` uses them and `upload` does not put the old ones back. The .sol and the compiled artifact
 * stay as they are: they describe the deployed code (re-stamped, like deployment.json, for the new model).
 */
async function refreshPlanArtifact(config: Config, prep: Prepared, blob: Uint8Array, chunkSize: number, sizes: number[], commitment: Hex) {
  const file = artifactPath(config, PLAN_FILE)
  let plan: PlanArtifact
  try {
    plan = JSON.parse(await readFile(file, 'utf8')) as PlanArtifact
  } catch {
    return
  }
  if (plan?.kind !== 'ml2sc/plan') return
  // the artifacts' stamp covers the model file's content: when only the model changed (the config as it was,
  // with the previous model's sha256, hashes to their stamp), they stay current for the new weights
  const previous = configHashes(config, { modelSha256: plan.model?.sha256 }).hash
  const stamped = <T extends { configHash?: string }>(a: T): T => (a.configHash === previous ? { ...a, configHash: config.hash } : a)
  const updated: PlanArtifact = stamped({
    ...plan,
    model: { ...plan.model, sha256: await sha256File(config.model.path) },
    weights: { bytes: blob.length, chunkSize, chunks: sizes, commitment },
    plan: planToJson(prep.plan),
  })
  await writeAtomic(file, JSON.stringify(updated, null, 2) + '\n')
  for (const name of [artifactFileOf(plan.contractName), DEPLOYMENT_FILE]) {
    const other = artifactPath(config, name)
    const a = await readFile(other, 'utf8').then((t) => JSON.parse(t) as { configHash?: string }, () => undefined)
    if (a && a.configHash === previous) await writeAtomic(other, JSON.stringify(stamped(a), null, 2) + '\n')
  }
}

export type UpdateResult = { address: Hex; chainId: number; version: number; previousVersion: number; commitment: Hex; transactions: Hex[]; gas: number; unchanged: boolean }

/**
 * Upload the config's current model file to the contract in deployment.json (owner only). Chunk 0 stops
 * inference (NotReady) until the last chunk lands; then the contract recomputes the commitment, bumps its
 * version and emits ModelUpdated(version, commitment). Resumable like any upload (upload-state.json).
 */
export async function updateCommand(args: { config: string; out?: string }, log: Logger): Promise<UpdateResult> {
  const config = await loadConfig(args.config, { output: args.out })
  const dep = await readDeployment(config.output)
  log.step(`model ${path.relative(process.cwd(), config.model.path) || config.model.path}`)
  const { prep, chunkSize, blob, sizes: blobSizes, commitment, upload } = await localModel(config)
  // the bytes sent: the blob, or (a forwarding model) its kernel contract
  const data = upload.data
  const sizes = upload.sizes
  const s = await openDeployment(config, dep, log)
  try {
    const compiled = await checkCompatible(s, config, dep, prep)
    const before = await readModelState(s, dep.address, dep.abi, { chunks: sizes.length })
    const sameCommitment = before.ready && before.commitment === commitment
    // a forwarding model with this commitment may still run other code (a foreign kernel with this blob as its tail): sent again
    const stale = sameCommitment && upload.kernel !== undefined && !(await runsKernel(s, dep.address, compiled, toHex(data), before.chunks))
    const onChain = sameCommitment && !stale
    if (onChain && dep.commitment === commitment) {
      log.step(`the contract already holds these weights (version ${before.version}, commitment ${commitment.slice(0, 10)}…): nothing to send`)
      return { address: dep.address, chainId: s.chainId, version: before.version, previousVersion: before.version, commitment, transactions: [], gas: 0, unchanged: true }
    }
    if (onChain) {
      // on chain but not in deployment.json: a run killed after its last chunk landed; nothing to send, the update is recorded
      log.step(`the contract already holds these weights (version ${before.version}): recording the update that put them there`)
    } else {
      if (stale) log.step(`the contract names these weights' commitment, but predict runs other code than their kernel: it is sent again`)
      checkChunksFit(s, data, sizes, dep.abi, prep.layout, 0, { deployed: true })
      // slots an earlier upload wrote (storage words; data-contract addresses past chunk 0) are rewritten
      // (the last data contract's address slot, 2 + n − 1, is set once an upload of these n chunks completed)
      const rewrite = before.version > 0 && (prep.layout === 'storage' || BigInt((await s.publicClient.getStorageAt({ address: dep.address, slot: toHex(1 + sizes.length) })) ?? 0) !== 0n)
      // the first update of a model with its weights in its code carries the 1-wei update mark (adminLibrary.ts)
      // (priced from the contract's own answer, the eth_call the uploader makes before chunk 0: needsMark)
      const chunk0 = encodeFunctionData({ abi: dep.abi, functionName: 'writeChunk', args: [0n, toHex(data.subarray(0, sizes[0])), commitment] })
      const mark = prep.layout === 'datacontract' && embedsWeights(prep.plan, prep.generate) && (await needsMark(s, dep.address, chunk0))
      await guardSpend(s, log, [estimateUploadGas(data, sizes, dep.abi, { layout: prep.layout, rewrite, mark })])
      log.step(`update ${dep.address}: ${upload.kernel ? `a kernel contract for the new weights (${data.length - blob.length} bytes of code ++ ${blob.length} bytes of weights)` : `${blob.length} bytes of weights`} in ${sizes.length} transaction${sizes.length === 1 ? '' : 's'} (version ${before.version} → ${before.version + 1})`)
    }
    const stateFile = uploadStatePath(config.output)
    const sent = await uploadWeights(s, dep.address, dep.abi, data, sizes, {
      commitment,
      stateFile,
      ...(stale ? { from: 0 } : {}),
      onResume: (from, note) => log.step(`resume the upload at chunk ${Math.min(from + 1, sizes.length)}/${sizes.length}: ${note}`),
      onProgress: (d, t, g) => log.progress('upload', d, t, `${g.toLocaleString('en-US')} gas`),
    })
    const records = uploadRecords(stateFile)
    const last = records.find((r) => r.label.startsWith(`upload chunk ${sizes.length}/`)) ?? sent[sent.length - 1]
    let version: number | undefined
    if (last && /^0x[0-9a-f]{64}$/i.test(last.hash)) {
      const receipt = await s.publicClient.getTransactionReceipt({ hash: last.hash })
      const [ev] = parseEventLogs({ abi: dep.abi, logs: receipt.logs, eventName: 'ModelUpdated' }) as unknown as { args: { version: bigint; commitment: Hex } }[]
      if (ev && ev.args.commitment !== commitment)
        throw new ChainError(`ModelUpdated reports commitment ${ev.args.commitment}, expected ${commitment}`, { hint: 'another process wrote to the contract at the same time: run `ml2sc verify`' })
      version = ev ? Number(ev.args.version) : undefined
    }
    const recorded = await withChainState(s, { ...dep, commitment }, { chunks: sizes.length })
    version ??= recorded.modelVersion ?? before.version + 1
    const gas = records.reduce((a, r) => a + r.gasUsed, 0)
    const updated: Deployment = {
      ...recorded,
      ...(typeof dep.upload === 'object' && dep.upload ? { upload: { ...(dep.upload as object), chunks: sizes.length, written: sizes.length, done: true } } : {}),
      transactions: {
        ...dep.transactions,
        updates: [...(dep.transactions.updates ?? []), { version, commitment, transactions: records.map((r) => r.hash), gas, at: new Date().toISOString() }],
      },
    }
    await writeDeployment(config.output, updated)
    await refreshPlanArtifact(config, prep, blob, chunkSize, blobSizes, commitment)
    log.info(`  model version ${version} on chain ${s.chainId} at ${dep.address}, commitment ${commitment}, ${gas.toLocaleString('en-US')} gas`)
    return { address: dep.address, chainId: s.chainId, version, previousVersion: before.version, commitment, transactions: records.map((r) => r.hash), gas, unchanged: false }
  } finally {
    await s.close()
  }
}

export const updateModule: Ml2scCommand = {
  builder: (y) =>
    y
      .positional('config', { type: 'string', demandOption: true, describe: 'ml2sc.yaml (or its folder)' })
      .example('ML2SC_PRIVATE_KEY=0x… $0 update ml2sc.yaml --yes', 'new weights for the contract in out/deployment.json')
      .example('$0 update ml2sc.yaml --out out/sepolia --yes', 'the deployment recorded in another output folder'),
  handler: async (a, log) => await updateCommand({ config: a.config, out: a.out }, log),
}

import { existsSync } from 'node:fs'
import path from 'node:path'
import { getAddress, isAddress, type Hex } from 'viem'
import { connectChain, type ChainSession } from '../chain/connectChain.ts'
import { readDeployment } from '../chain/deploymentFile.ts'
import { verifyModel, type LocalModel, type VerifyFindings } from '../chain/verifyModel.ts'
import { embedsWeights, generateSolidity } from '../codegen/generateSolidity.ts'
import { compileSolidity } from '../compile/compileSolidity.ts'
import { loadConfig } from '../config/loadConfig.ts'
import type { Config } from '../config/types.ts'
import { ChainError, Ml2scError } from '../errors/base.ts'
import { ANVIL_STATE_FILE, artifactPath } from '../pipeline/artifacts.ts'
import { openChain } from '../pipeline/openChain.ts'
import type { Logger } from '../ui/logger.ts'
import type { Ml2scCommand } from './context.ts'
import { localModel } from './update.ts'
import { localForwarding } from '../pipeline/localForwarding.ts'
import { weightWidthText } from '../fixed/types.ts'

export type VerifyArgs = { config: string; out?: string; address?: string; rpc?: string; owner?: string; block?: string | number }

export type VerifyResult = {
  verified: boolean
  /** The line that says what differs (absent when verified). */
  reason?: string
  /** Which check failed: code, adminLibrary, owner, state, upload, chunk or commitment. */
  check?: string
  /** What to do about it. */
  hint?: string
  chainId: number
  address: Hex
  /** The block every read was made at (--block, else the head when verify started). */
  block: number
  version?: number
  ready?: boolean
  local: Hex
  /** The weight width of the local model compared (\`precision.weights: auto\` may pick any of int8 … int32, or one per layer: `int8/int16/int8`). */
  weights: string
  /** The chain's own commitment() (absent when an earlier check failed). */
  onchain?: Hex
  owner?: Hex
  pendingOwner?: Hex
  expectedOwner?: Hex
  /** First byte where the runtime code differs from the compiled contract (immutables zeroed). */
  codeDifference?: number
  adminLibrary: Hex
  chunks?: Hex[]
  /** The address table predict reads the chunks' addresses from (several chunks). */
  table?: Hex
  /** The model's balance in wei, as a decimal string (with embedded weights, 0: predict reads no state). */
  balance?: string
  /** Slot 2 as stored, read with eth_getStorageAt. */
  stateWord?: Hex
  exitCode?: number
}

function addressArg(value: string | undefined, flag: string): Hex | undefined {
  if (value === undefined) return undefined
  if (!isAddress(value, { strict: false })) throw new Ml2scError(`${flag} ${value} is not an address`, { where: flag, hint: 'give 0x followed by 40 hex digits' })
  return getAddress(value)
}

/** `--block N`: a block number at or below the chain's head. */
async function blockArg(value: string | number | undefined, s: ChainSession): Promise<bigint | undefined> {
  if (value === undefined) return undefined
  const text = String(value).trim()
  if (!/^\d+$/.test(text)) throw new Ml2scError(`'${text}' is not a block number`, { where: '--block', hint: 'give a decimal block number, e.g. --block 1234 (default: the chain\'s head)' })
  const head = await s.publicClient.getBlockNumber({ cacheTime: 0 })
  if (BigInt(text) > head) throw new ChainError(`block ${text} is beyond the chain's head (block ${head}) on chain ${s.chainId}`, { where: '--block', hint: 'give a block that has been mined, or leave --block out to read at the head' })
  return BigInt(text)
}

/** The chain to read: --rpc (or chain.rpcUrl) read-only with no key, else the embedded chain the last run left. */
async function openForReading(config: Config, rpc: string | undefined, log: Logger): Promise<ChainSession> {
  const url = rpc ?? config.chain.rpcUrl
  if (url) return await connectChain({ ...config.chain, rpcUrl: url, fork: undefined, readOnly: true })
  if (!existsSync(artifactPath(config, ANVIL_STATE_FILE)))
    throw new ChainError('no chain to read: the config has no chain.rpcUrl, and no embedded chain of a last run is saved here', {
      where: config.chain.fork ? 'chain.fork' : 'chain.rpcUrl',
      hint: 'give the chain with --rpc URL (verify only reads it: no key needed)',
    })
  return await openChain(config, log, 'resume', { readOnly: true })
}

/** The contract and weights this config makes (the plan of the deployment in the output folder, if any). */
async function localOf(config: Config, file: string): Promise<LocalModel & { weights: string }> {
  const { prep, blob, sizes, commitment } = await localModel(config)
  const compiled = compileSolidity(generateSolidity(prep.plan, prep.generate), prep.contractName, { hardfork: config.chain.hardfork, fresh: true })
  const embedded = prep.layout === 'datacontract' && embedsWeights(prep.plan, prep.generate)
  // fresh as the model's own compile: the kernel and the prefix it is compared with never come from a cache folder
  const forwarding = localForwarding(prep.plan, prep.generate, compiled.deployedBytecode, { hardfork: config.chain.hardfork, fresh: true })
  return { compiled, blob, sizes, commitment, embedded, layout: prep.layout, file, weights: weightWidthText(prep.plan), ...(forwarding ? { forwarding } : {}) }
}

/**
 * When the config's data files are missing here and `precision: auto` chose its widths from them, the
 * hint for a code difference: the widths may not be the publisher's.
 */
async function autoWithoutData(config: Config, args: VerifyArgs): Promise<string | undefined> {
  if (config.precision.weights !== 'auto' && config.precision.inputs !== 'auto') return undefined
  const complete = await loadConfig(args.config, { output: args.out }).then(() => true, () => false)
  if (complete) return undefined
  return "precision auto picks its widths from the test rows and PyTorch's outputs (data.test, data.reference), and some are missing here: verify with the publisher's files, with the publisher's plan.json in the output folder (--out DIR; its widths are proven by the code comparison, its weights never read), or with a config that pins precision.weights and precision.inputs"
}

/**
 * `ml2sc verify`: whether the contract at an address (--address, else deployment.json's) is this config's
 * model, judged from the chain alone (deployment.json's own claims are never used): its code is what the
 * config compiles to, the admin library is ml2sc's, every byte predict reads (balance, raw storage, the
 * address table, the data contracts) is the model's, the upload is complete and the chain's commitment()
 * is the local one; the owner is --owner when given. Read-only: no
 * key, no transaction. Exit 1 with one line saying what differs.
 */
export async function verifyCommand(args: VerifyArgs, log: Logger): Promise<VerifyResult> {
  const explicit = addressArg(args.address, '--address')
  const expectedOwner = addressArg(args.owner, '--owner')
  const config = await loadConfig(args.config, { output: args.out, dataOptional: true })
  const dep = explicit ? undefined : await readDeployment(config.output)
  const address = explicit ?? getAddress(dep!.address)
  const file = path.relative(process.cwd(), config.model.path) || config.model.path
  const configLabel = path.relative(process.cwd(), config.file) || config.file
  const s = await openForReading(config, args.rpc, log)
  try {
    if (dep && dep.chainId !== s.chainId)
      throw new ChainError(`deployment.json is for chain ${dep.chainId}, but the chain is ${s.chainId}`, { where: 'chain', hint: 'point --rpc (or chain.rpcUrl) at the chain of the deployment, or give --address' })
    const block = await blockArg(args.block, s)
    const local = await localOf(config, file)
    const commitment = local.commitment
    log.step(`verify ${address} on chain ${s.chainId}${block === undefined ? '' : ` at block ${block}`} against ${file}`)
    const found: VerifyFindings = await verifyModel(s, address, local, { expectedOwner, initialOwner: config.chain.owner ? getAddress(config.chain.owner) : undefined, configLabel, codeHint: await autoWithoutData(config, args), block })
    const result: VerifyResult = {
      verified: !found.problem,
      ...(found.problem ? { reason: found.problem.line, check: found.problem.check, hint: found.problem.hint } : {}),
      chainId: s.chainId,
      address,
      block: Number(found.block),
      version: found.version,
      ready: found.ready,
      local: commitment,
      weights: local.weights,
      onchain: found.onchain,
      owner: found.owner,
      pendingOwner: found.pendingOwner,
      ...(expectedOwner ? { expectedOwner } : {}),
      ...(found.codeDifference !== undefined ? { codeDifference: found.codeDifference } : {}),
      adminLibrary: found.adminLibrary,
      chunks: found.chunks,
      ...(found.table ? { table: found.table } : {}),
      ...(found.balance !== undefined ? { balance: found.balance.toString() } : {}),
      ...(found.stateWord ? { stateWord: found.stateWord } : {}),
    }
    if (found.problem) {
      process.stderr.write(`ml2sc: verify failed: ${found.problem.line} (hint: ${found.problem.hint})\n`)
      return { ...result, exitCode: 1 }
    }
    const pending = found.pendingOwner && BigInt(found.pendingOwner) !== 0n ? `, pending owner ${found.pendingOwner}` : ''
    log.info(`verified: the contract at ${address} on chain ${s.chainId} holds ${file} (version ${found.version}, commitment ${commitment}, read at block ${found.block})`)
    log.info(`  owner ${found.owner}${pending}${expectedOwner ? ' (as expected)' : ': the owner can replace the weights; check it with --owner 0x…'}`)
    return result
  } finally {
    await s.close()
  }
}

export const verifyModule: Ml2scCommand = {
  builder: (y) =>
    y
      .positional('config', { type: 'string', demandOption: true, describe: 'ml2sc.yaml (or its folder)' })
      .option('address', { type: 'string', describe: 'The model contract to check (default: the one in deployment.json); needs no deployment.json' })
      .option('rpc', { type: 'string', describe: 'The chain to read (default: chain.rpcUrl, else the embedded chain of the last run)' })
      .option('owner', { type: 'string', describe: 'Fail unless this address owns the contract' })
      .option('block', { type: 'string', describe: "Read the chain as it was at this block (default: the head when verify starts; every read is made at one block)" })
      .example('$0 verify ml2sc.yaml', 'the contract in out/deployment.json against the model file')
      .example('$0 verify ml2sc.yaml --address 0x… --rpc https://… --owner 0x…', "anyone's deployment, from the model file and config alone")
      .example('$0 verify ml2sc.yaml --json', '{"verified": true, "onchain": "0x…", "local": "0x…", "owner": "0x…", …}'),
  handler: async (a, log) => await verifyCommand({ config: a.config, out: a.out, address: a.address, rpc: a.rpc, owner: a.owner, block: a.block }, log),
}

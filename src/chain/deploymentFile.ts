import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { isAddress, type Abi, type Hex } from 'viem'
import type { CompiledContract } from '../compile/compileSolidity.ts'
import { isCompiledCode } from '../compile/runtimeCodeHash.ts'
import { Ml2scError } from '../errors/base.ts'
import { writeAtomic } from '../files/writeAtomic.ts'
import { ML2SC_VERSION } from '../version.ts'
import type { ChainSession } from './connectChain.ts'
import { readModelState } from './modelState.ts'

export const DEPLOYMENT_FILE_NAME = 'deployment.json'

/** One `ml2sc update`: the version it made, its commitment and its transactions. */
export type UpdateRecord = { version: number; commitment: Hex; transactions: Hex[]; gas: number; at: string }

/**
 * deployment.json: what is needed to find, check and use a deployed model. The fields below are the ones
 * every writer fills (the pipeline's deploy stage adds its own, e.g. its stamp, codeHash and upload
 * progress: they are kept as they are).
 */
export type Deployment = {
  /** ml2sc version that wrote it, and the config hash (configHash.ts). */
  ml2sc: string
  configHash: string
  chainId: number
  /** The model contract. */
  address: Hex
  contractName?: string
  abi: Abi
  /** keccak256 of the canonical quantised weight encoding the contract holds (or is being given). */
  commitment: Hex
  layout?: string
  /** keccak256 of the runtime code, immutables zeroed (runtimeCodeHash). */
  codeHash?: Hex
  /** Read back from the chain: the data contracts holding the weight chunks, the owner, the model version. */
  chunks?: Hex[]
  owner?: Hex
  modelVersion?: number
  transactions: { deploy: Hex; upload: Hex[]; updates?: UpdateRecord[] }
  [key: string]: unknown
}

/** A folder means `<folder>/deployment.json`. */
async function fileOf(fileOrDir: string): Promise<string> {
  const info = await stat(fileOrDir).catch(() => undefined)
  if (info?.isDirectory()) return path.join(fileOrDir, DEPLOYMENT_FILE_NAME)
  return info || fileOrDir.endsWith('.json') ? fileOrDir : path.join(fileOrDir, DEPLOYMENT_FILE_NAME)
}

const shown = (file: string) => {
  const rel = path.relative(process.cwd(), file)
  return rel && !rel.startsWith('../../..') ? rel : file
}

/** Read and check deployment.json (without the pipeline's stamp check: `verify`/`update` work on any config edit). */
export async function readDeployment(fileOrDir: string): Promise<Deployment> {
  const file = await fileOf(fileOrDir)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT'
    throw new Ml2scError(missing ? 'no deployment.json: nothing is deployed from this output folder' : 'cannot read deployment.json', {
      where: shown(file),
      hint: missing ? 'deploy first with `ml2sc run <config>` (or pass the folder that holds deployment.json with --out)' : undefined,
      cause: e,
    })
  }
  let d: Deployment
  try {
    d = JSON.parse(text) as Deployment
  } catch (e) {
    throw new Ml2scError('deployment.json is not valid JSON', { where: shown(file), hint: 'restore it, or deploy again with `ml2sc run`', cause: e })
  }
  const problems: string[] = []
  if (!d || typeof d !== 'object') problems.push('not an object')
  else {
    if (!Number.isInteger(d.chainId)) problems.push('chainId')
    if (typeof d.address !== 'string' || !isAddress(d.address)) problems.push('address')
    if (!Array.isArray(d.abi)) problems.push('abi')
    if (typeof d.commitment !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(d.commitment)) problems.push('commitment')
  }
  if (problems.length) throw new Ml2scError(`deployment.json is missing or has a bad ${problems.join(', ')}`, { where: shown(file), hint: 'restore it, or deploy again with `ml2sc run`' })
  d.transactions ??= { deploy: '0x' as Hex, upload: [] }
  return d
}

/** Write deployment.json atomically (stamped with this ml2sc version). Returns its path. */
export async function writeDeployment(fileOrDir: string, d: Deployment): Promise<string> {
  const file = await fileOf(fileOrDir)
  await writeAtomic(file, JSON.stringify({ ...d, ml2sc: ML2SC_VERSION }, null, 2) + '\n')
  return file
}

/** The record with what the chain says now: owner, model version, commitment and the chunk addresses. */
export async function withChainState(s: ChainSession, d: Deployment, opts: { chunks?: number } = {}): Promise<Deployment> {
  const st = await readModelState(s, d.address, d.abi, opts)
  return { ...d, owner: st.owner, modelVersion: st.version, commitment: st.ready ? st.commitment : d.commitment, chunks: st.chunks }
}

/**
 * The deployment recorded in `outDir` when it can be picked up again on this chain: same chain id, and at
 * its address the very code about to be deployed (and, when `owner` is given, owned by it). Used by `ml2sc run` on an RPC chain so that a re-run
 * (after a kill, a network failure or a finished run) resumes the upload instead of paying for a new
 * contract. Undefined otherwise (no record, another chain, other code, or nothing at the address).
 */
export async function findReusableDeployment(s: ChainSession, outDir: string, compiled: Pick<CompiledContract, 'deployedBytecode' | 'immutables'>, opts: { owner?: Hex } = {}): Promise<Deployment | undefined> {
  if (s.kind !== 'rpc') return undefined
  let d: Deployment
  try {
    d = await readDeployment(outDir)
  } catch {
    return undefined
  }
  if (d.chainId !== s.chainId) return undefined
  const code = await s.publicClient.getCode({ address: d.address }).catch(() => undefined)
  if (!code || code === '0x') return undefined
  if (!isCompiledCode(code, compiled)) return undefined
  // the initial owner is an immutable, zeroed in the comparison: a contract owned by another account than
  // the one asked for (chain.owner changed) is not this deployment
  if (opts.owner) {
    const owner = (await s.publicClient.readContract({ address: d.address, abi: d.abi, functionName: 'owner' }).catch(() => undefined)) as Hex | undefined
    if (owner?.toLowerCase() !== opts.owner.toLowerCase()) return undefined
  }
  return d
}

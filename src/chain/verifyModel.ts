import { getAddress, zeroAddress, type Hex } from 'viem'
import { adminLibrary } from '../codegen/adminLibrary.ts'
import { embeddedWeightRanges } from '../codegen/embeddedWeightRanges.ts'
import type { CompiledContract } from '../compile/compileSolidity.ts'
import { codeDifference, immutableValue } from '../compile/runtimeCodeHash.ts'
import type { ChainSession } from './connectChain.ts'
import { chunkMatches, readModelState } from './modelState.ts'

/** What this model file and config make: the compiled contract and the canonical weights. */
export type LocalModel = {
  compiled: Pick<CompiledContract, 'deployedBytecode' | 'immutables' | 'abi'>
  blob: Uint8Array
  /** Bytes per upload chunk, in order. */
  sizes: number[]
  commitment: Hex
  /** The weights (and their commitment) are constants in the contract's code, datacontract layout: updates may replace them. */
  embedded: boolean
  /** `code`: the weights are the code itself (no upload, no chunk count). */
  layout: 'datacontract' | 'code' | 'storage'
  /** The model file, for messages. */
  file: string
}

/** The check that failed: which one, one line saying what differs, and a hint. */
export type VerifyProblem = { check: 'code' | 'adminLibrary' | 'upload' | 'chunk' | 'commitment' | 'owner'; line: string; hint: string }

export type VerifyFindings = {
  problem?: VerifyProblem
  /** First byte (immutables zeroed) where the code on chain differs from the compiled contract. */
  codeDifference?: number
  adminLibrary: Hex
  owner?: Hex
  pendingOwner?: Hex
  version?: number
  ready?: boolean
  chunksWritten?: number
  chunks?: Hex[]
  onchain?: Hex
}

/**
 * Check the contract at `address` against the local model, in the order that makes each later answer
 * trustworthy: its code is this config's compiled contract (immutables zeroed); the admin library it
 * DELEGATECALLs (for ownership, uploads and the commitment) is ml2sc's; the upload is complete; each data
 * contract holds its chunk (code = STOP ++ chunk: it can never run, so never change); the chain's own
 * commitment (recomputed by that verified code) equals the local one; the initial owner (the immutable)
 * is `initialOwner` and the owner is `expectedOwner`, when given. Only reads: nothing is sent.
 */
export async function verifyModel(s: ChainSession, address: Hex, local: LocalModel, opts: {
    expectedOwner?: Hex
    /** `chain.owner`: the initial owner the creation code must have put in the contract's immutable. */
    initialOwner?: Hex
    configLabel: string
    /** Replaces the hint when the code differs. */
    codeHint?: string
  }): Promise<VerifyFindings> {
  const lib = adminLibrary()
  const found: VerifyFindings = { adminLibrary: lib.address }
  const fail = (check: VerifyProblem['check'], line: string, hint: string): VerifyFindings => ({ ...found, problem: { check, line, hint } })
  const notOurs = opts.codeHint ?? `it was not made by ml2sc from ${local.file} and ${opts.configLabel} (another model, precision, layout, hardfork or ml2sc version), or it is a forgery`

  const code = await s.publicClient.getCode({ address })
  if (!code || code === '0x') return fail('code', `no contract at ${address} on chain ${s.chainId}`, 'check the address and that --rpc (or chain.rpcUrl) is the chain it was deployed on')
  const { compiled } = local
  const wanted = (compiled.deployedBytecode.length - 2) / 2
  const size = `${(code.length - 2) / 2} bytes on chain, ${wanted} compiled`
  const weightRanges = local.embedded ? embeddedWeightRanges(compiled.deployedBytecode, local.blob) : []
  const outside = codeDifference(code, compiled, { ignore: weightRanges })
  if (outside !== undefined) {
    found.codeDifference = outside
    return fail('code', `code differs at byte ${outside}: the contract at ${address} is not what ${opts.configLabel} compiles to (${size})`, notOurs)
  }
  const inWeights = weightRanges.length ? codeDifference(code, compiled) : undefined

  const libCode = await s.publicClient.getCode({ address: lib.address })
  if (!libCode || libCode === '0x')
    return fail('adminLibrary', `admin library missing: no code at ${lib.address}, the library every ml2sc model DELEGATECALLs`, 'the model cannot answer anything but predictions on this chain; deploy a model with `ml2sc run` to put the library there')
  const libDiff = codeDifference(libCode, { deployedBytecode: lib.runtime, immutables: lib.immutables })
  if (libDiff !== undefined)
    return fail('adminLibrary', `admin library differs at byte ${libDiff}: the code at ${lib.address} is not ml2sc's admin library, which runs the model's ownership, uploads and commitment`, 'on this chain the model\'s getters and owner checks cannot be trusted: the CREATE2 deployment proxy or the chain is not the usual one')
  for (const r of lib.immutables) {
    const v = immutableValue(libCode, r)
    if (BigInt(v) !== BigInt(lib.address)) return fail('adminLibrary', `admin library differs: its own-address immutable is ${v}, expected ${lib.address}`, 'the library at that address was not deployed by the CREATE2 deployment proxy')
  }

  // from here on every answer comes from verified code
  const st = await readModelState(s, address, compiled.abi, { chunks: local.sizes.length })
  Object.assign(found, { owner: st.owner, pendingOwner: st.pendingOwner, version: st.version, ready: st.ready, chunksWritten: st.chunksWritten, chunks: st.chunks })
  if (inWeights !== undefined && st.chunks.length === 0) {
    found.codeDifference = inWeights
    const what = weightRanges.find((r) => inWeights >= r.start && inWeights < r.start + r.length)?.what ?? 'the embedded weights'
    return fail('code', `code differs at byte ${inWeights} (in ${what}): the contract at ${address} does not hold ${local.file}'s weights`, 'the weights compiled into its code are another model\'s, or were altered after ml2sc generated them')
  }
  const chunks = local.sizes.length
  if (!st.ready || (local.layout !== 'code' && st.chunksWritten < chunks))
    return fail('upload', `upload incomplete: ${st.chunksWritten} of ${chunks} chunk(s) written to ${address}; it refuses inference until the upload completes`, 'the owner finishes it with `ml2sc upload` or `ml2sc update`')
  // each data contract's code must be STOP ++ its chunk: the commitment covers only the bytes read after the
  // STOP, and a chunk whose code can run could change (self-destruct and be created again) after this check
  let badChunk: { index: number; address: Hex; from: number; to: number } | undefined
  for (let i = 0, at = 0; i < st.chunks.length && !badChunk; at += local.sizes[i]!, i++) {
    const a = st.chunks[i]!
    if (a === zeroAddress || !(await chunkMatches(s, a, local.blob.subarray(at, at + local.sizes[i]!)))) badChunk = { index: i + 1, address: a, from: at, to: at + local.sizes[i]! }
  }
  const chunkLine = badChunk && `chunk ${badChunk.index} of ${chunks} differs`
  found.onchain = st.commitment
  if (st.commitment.toLowerCase() !== local.commitment.toLowerCase())
    return fail('commitment', `commitment differs: on chain ${st.commitment} (version ${st.version}), local ${local.commitment} (${local.file})${chunkLine ? `; ${chunkLine} first` : ''}`, 'the contract holds other weights: the owner uploads these with `ml2sc update`, or the model file is not the one deployed')
  if (badChunk)
    return fail('chunk', `${chunkLine}: the code of the data contract at ${badChunk.address} is not STOP ++ bytes ${badChunk.from}…${badChunk.to} of ${local.file}'s weights`, 'the contract reads its weights from a contract that is not a plain ml2sc data contract: it could change after this check')
  // the model's only immutable is its initial owner (the owner until the first transfer): chain.owner, when the config names one
  const initial = compiled.immutables.map((r) => immutableValue(code, r))
  if (opts.initialOwner && initial.some((v) => BigInt(v) !== BigInt(opts.initialOwner!)))
    return fail('owner', `initial owner is ${getAddress(`0x${initial.find((v) => BigInt(v) !== BigInt(opts.initialOwner!))!.slice(-40)}`)}, expected ${opts.initialOwner} (chain.owner)`, 'this copy of the contract was deployed for another owner than the config names')
  if (opts.expectedOwner && st.owner.toLowerCase() !== opts.expectedOwner.toLowerCase())
    return fail('owner', `owner is ${st.owner}, expected ${opts.expectedOwner}`, 'the owner can replace the weights at any time: do not trust this deployment unless you trust that owner')
  if (opts.expectedOwner && BigInt(st.pendingOwner) !== 0n && BigInt(st.pendingOwner) !== BigInt(opts.expectedOwner))
    return fail('owner', `pending owner is ${st.pendingOwner}, expected none or ${opts.expectedOwner}`, 'the pending owner can take the contract (acceptOwnership) at any time, then replace the weights')
  return found
}

import { getAddress, toHex, zeroAddress, type Hex } from 'viem'
import { adminLibrary, STORAGE_BASE } from '../codegen/admin/adminLibrary.ts'
import { embeddedWeightRanges } from '../codegen/weights/embeddedWeightRanges.ts'
import type { CompiledContract } from '../compile/compileSolidity.ts'
import { codeDifference, immutableValue, prefixDifference } from '../compile/runtimeCodeHash.ts'
import type { ChainSession } from './connectChain.ts'
import { chunkMatches, readModelState } from './modelState.ts'
import { pinnedSession } from './pinnedSession.ts'
import { predictReads, readRawState, readWeightSlots, wordHex } from './predictReads.ts'

/** What verify and update compare a forwarding model (forwardingModel.ts) with, besides its whole code. */
export type LocalForwarding = {
  /** The kernel contract's code an update to these weights installs: runtime ++ blob. */
  kernel: Hex
  /** The code an updated model runs: bytes [0, end) of the compiled code; `ignore` depends on the initial commitment only. */
  prefix: { end: number; ignore: { start: number; length: number }[] }
}

const addressOf = (v: bigint) => getAddress(toHex(v & ((1n << 160n) - 1n), { size: 20 }))

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
  /** A forwarding model (forwardingModel.ts): the kernel contract for these weights, and the code an updated model runs (made when needed). */
  forwarding?: () => LocalForwarding
}

/** The check that failed: which one, one line saying what differs, and a hint. */
export type VerifyProblem = { check: 'code' | 'adminLibrary' | 'owner' | 'state' | 'upload' | 'chunk' | 'commitment'; line: string; hint: string }

export type VerifyFindings = {
  problem?: VerifyProblem
  /** The block every read was made at (one state for the whole check). */
  block: bigint
  /** First byte (immutables zeroed) where the code on chain differs from the compiled contract. */
  codeDifference?: number
  adminLibrary: Hex
  owner?: Hex
  pendingOwner?: Hex
  version?: number
  ready?: boolean
  chunksWritten?: number
  chunks?: Hex[]
  /** The address table predict reads the chunks' addresses from (several chunks). */
  table?: Hex
  onchain?: Hex
  /** The model's balance in wei (with embedded weights, 0 means predict reads no state: the update mark). */
  balance?: bigint
  /** Slot 2 as stored (the state word XOR the model's mask). */
  stateWord?: Hex
}

/**
 * Check the contract at `address` against the local model, proving every byte its predict can read, in the
 * order that makes each later answer trustworthy: its code is this config's compiled contract (immutables
 * zeroed, the embedded weights let differ only once an update moved them out); the admin library it
 * DELEGATECALLs (for ownership, uploads and the commitment) is ml2sc's; the initial owner (the immutable)
 * is a clean address, and `initialOwner` when given; the raw balance and storage decide where predict reads
 * its weights (predictReads.ts: the code's tail, the data contracts through the address table, or storage)
 * and are a state a genuine model can be in; the upload is complete; the getters read those same chunks;
 * the chain's own commitment (recomputed by that verified code) equals the local one; each data contract
 * holds its chunk (code = STOP ++ chunk: it can never run, so never change), each storage word its bytes;
 * the owner is `expectedOwner`, when given, all 256 bits. Every read is made at one block (`block`, else
 * the head when the check starts), so the answers describe one state. Only reads: nothing is sent.
 */
export async function verifyModel(chain: ChainSession, address: Hex, local: LocalModel, opts: {
    expectedOwner?: Hex
    /** `chain.owner`: the initial owner the creation code must have put in the contract's immutable. */
    initialOwner?: Hex
    configLabel: string
    /** Replaces the hint when the code differs. */
    codeHint?: string
    /** The block to read at (default: the chain's head when the check starts). */
    block?: bigint
  }): Promise<VerifyFindings> {
  const block = opts.block ?? (await chain.publicClient.getBlockNumber({ cacheTime: 0 }))
  const s = pinnedSession(chain, block)
  const lib = adminLibrary()
  const found: VerifyFindings = { block, adminLibrary: lib.address }
  const fail = (check: VerifyProblem['check'], line: string, hint: string): VerifyFindings => ({ ...found, problem: { check, line, hint } })
  const notOurs = opts.codeHint ?? `it was not made by ml2sc from ${local.file} and ${opts.configLabel} (another model, precision, layout, hardfork or ml2sc version), or it is a forgery`

  const code = await s.publicClient.getCode({ address })
  if (!code || code === '0x') return fail('code', `no contract at ${address} on chain ${s.chainId}`, 'check the address and that --rpc (or chain.rpcUrl) is the chain it was deployed on')
  const { compiled } = local
  const wanted = (compiled.deployedBytecode.length - 2) / 2
  const size = `${(code.length - 2) / 2} bytes on chain, ${wanted} compiled`
  const weightRanges = local.embedded ? embeddedWeightRanges(compiled.deployedBytecode, local.blob) : []
  // a forwarding model: with a balance of 0 it runs its initial weights, so its whole code; else first the
  // code it runs in any state (before its initial kernel, the initial commitment's bytes aside), then the
  // whole code too if predictReads says the initial kernel is what runs (wei forced in, no kernel named)
  const initialRuns = local.forwarding ? (await s.publicClient.getBalance({ address })) === 0n : false
  const fw = local.forwarding && !initialRuns ? local.forwarding() : undefined
  const outside = fw ? prefixDifference(code, compiled, fw.prefix) : codeDifference(code, compiled, { ignore: weightRanges })
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

  // immutables as full 32-byte words: the model's only one is its initial owner, which the library compares
  // whole with the caller (an address with dirty upper bits decodes to someone who can never act)
  const initial = compiled.immutables.map((r) => BigInt(immutableValue(code, r)))
  if (initial.some((v) => v !== initial[0]))
    return fail('owner', `the initial-owner immutable holds different words: ${[...new Set(initial)].map(wordHex).join(', ')}`, 'the creation code that deployed this contract was not ml2sc\'s')
  const dirty = initial.find((v) => v >> 160n)
  if (dirty !== undefined)
    return fail('owner', `initial owner (the model's immutable) is ${wordHex(dirty)}: its upper 96 bits are not zero, so no account is the initial owner (owner() decodes to ${addressOf(dirty)}, which cannot act)`, 'the creation code that deployed this contract was not ml2sc\'s: whoever the getters name, nobody can upload or update its weights')
  if (opts.initialOwner && initial.some((v) => v !== BigInt(opts.initialOwner!)))
    return fail('owner', `initial owner is ${addressOf(initial.find((v) => v !== BigInt(opts.initialOwner!))!)}, expected ${opts.initialOwner} (chain.owner)`, 'this copy of the contract was deployed for another owner than the config names')

  // what predict reads besides the code, raw (eth_getStorageAt, eth_getBalance), not only through the getters
  const raw = await readRawState(s, address)
  Object.assign(found, { balance: raw.balance, stateWord: wordHex(raw.state) })
  for (const [v, what] of [[raw.owner, 'owner (slot 0)'], [raw.pendingOwner, 'pending owner (slot 1)']] as const)
    if (v >> 160n) return fail('owner', `${what} is ${wordHex(v)}: its upper 96 bits are not zero, so no account holds that role (the getter decodes it to ${addressOf(v)})`, 'the library writes only clean addresses there: this storage was written by something else (a forged creation code, say)')
  const chunks = local.sizes.length
  const reads = await predictReads(s, address, { layout: local.layout, embedded: local.embedded, chunks }, raw)
  if (reads.fields) Object.assign(found, { version: reads.fields.version, ready: reads.fields.ready === 1, chunksWritten: reads.fields.written })
  if (reads.problem) return fail(reads.problem.check, reads.problem.line, reads.problem.hint)
  const source = reads.source!
  if (source.from === 'chunks' && source.table) found.table = source.table

  // from here on every answer comes from verified code, reading the storage just checked
  const st = await readModelState(s, address, compiled.abi, { chunks })
  Object.assign(found, { owner: st.owner, pendingOwner: st.pendingOwner, version: st.version, ready: st.ready, chunksWritten: st.chunksWritten, chunks: st.chunks })
  if (fw && source.from === 'tail') {
    const d = codeDifference(code, compiled)
    if (d !== undefined) {
      found.codeDifference = d
      return fail('code', `code differs at byte ${d} (it runs its initial weights: no update installed a kernel contract): the contract at ${address} is not what ${opts.configLabel} compiles to for ${local.file}'s weights`, 'the weights or the commitment compiled into its code are another model\'s, or were altered after ml2sc generated them')
    }
  }
  if (source.from === 'tail' && inWeights !== undefined) {
    found.codeDifference = inWeights
    const what = weightRanges.find((r) => inWeights >= r.start && inWeights < r.start + r.length)?.what ?? 'the embedded weights'
    return fail('code', `code differs at byte ${inWeights} (in ${what}): the contract at ${address} does not hold ${local.file}'s weights`, 'the weights compiled into its code are another model\'s, or were altered after ml2sc generated them')
  }
  if (!st.ready || (local.layout !== 'code' && st.chunksWritten < chunks))
    return fail('upload', `upload incomplete: ${st.chunksWritten} of ${chunks} chunk(s) written to ${address}; it refuses inference until the upload completes`, 'the owner finishes it with `ml2sc upload` or `ml2sc update`')
  // the getters read the chunks predict reads (the library's chunk(), from the same table)
  const readChunks = source.from === 'chunks' ? source.chunks : []
  if (st.chunks.length !== readChunks.length || st.chunks.some((a, i) => BigInt(a) !== BigInt(readChunks[i]!)))
    return fail('state', `chunkAddress() answers ${st.chunks.join(', ') || 'none'}, while predict reads ${readChunks.join(', ') || 'none'}`, 'the getters and predict read other weights: this is not ml2sc\'s admin library at work')
  // each data contract's code must be STOP ++ its chunk: the commitment covers only the bytes read after the
  // STOP, and a chunk whose code can run could change (self-destruct and be created again) after this check
  let badChunk: { index: number; address: Hex; from: number; to: number } | undefined
  for (let i = 0, at = 0; i < readChunks.length && !badChunk && !fw; at += local.sizes[i]!, i++) {
    const a = readChunks[i]!
    if (a === zeroAddress || !(await chunkMatches(s, a, local.blob.subarray(at, at + local.sizes[i]!)))) badChunk = { index: i + 1, address: a, from: at, to: at + local.sizes[i]! }
  }
  const chunkLine = badChunk && `chunk ${badChunk.index} of ${chunks} differs`
  found.onchain = st.commitment
  if (st.commitment.toLowerCase() !== local.commitment.toLowerCase())
    return fail('commitment', `commitment differs: on chain ${st.commitment} (version ${st.version}), local ${local.commitment} (${local.file})${chunkLine ? `; ${chunkLine} first` : ''}`, 'the contract holds other weights: the owner uploads these with `ml2sc update`, or the model file is not the one deployed')
  if (fw && readChunks.length) {
    // the kernel contract predict DELEGATECALLs: ml2sc's kernel for these weights, byte for byte (its code can
    // never change: no SELFDESTRUCT in it, and the model's own code, checked above, is all that calls it)
    const k = readChunks[0]!
    const kcode = (await s.publicClient.getCode({ address: k })) ?? '0x'
    if (kcode.toLowerCase() !== fw.kernel.toLowerCase()) {
      const at = codeDifference(kcode, { deployedBytecode: fw.kernel, immutables: [] })
      return fail('chunk', `the kernel contract at ${k} is not ml2sc's kernel for ${local.file}'s weights (${(kcode.length - 2) / 2} bytes on chain, ${(fw.kernel.length - 2) / 2} expected${at !== undefined ? `, first difference at byte ${at}` : ''})`, 'predict runs that code in the model\'s context: it must be the kernel an `ml2sc update` of these weights installs')
    }
  }
  if (badChunk)
    return fail('chunk', `${chunkLine}: the code of the data contract at ${badChunk.address} is not STOP ++ bytes ${badChunk.from}…${badChunk.to} of ${local.file}'s weights`, 'the contract reads its weights from a contract that is not a plain ml2sc data contract: it could change after this check')
  if (source.from === 'storage') {
    // every 32-byte word predict loads, raw: the commitment covers the weights' bytes, not the rest of the last word
    const words = await readWeightSlots(s, address, Math.ceil(local.blob.length / 32))
    const padded = new Uint8Array(32 * words.length)
    padded.set(local.blob)
    const w = words.findIndex((v, k) => v !== BigInt(toHex(padded.subarray(32 * k, 32 * k + 32))))
    if (w >= 0) return fail('state', `storage word ${w} (slot ${toHex(STORAGE_BASE + w)}) is ${wordHex(words[w]!)}, expected ${toHex(padded.subarray(32 * w, 32 * w + 32))}`, 'predict loads that whole word: the bytes after the weights must be zero, as ml2sc writes them')
  }
  // the owner, as the library compares it: all 256 bits (slot 0, or the initial owner until a transfer)
  const owner = raw.owner || initial[0] || 0n
  if (opts.expectedOwner && owner !== BigInt(opts.expectedOwner))
    return fail('owner', `owner is ${st.owner}, expected ${opts.expectedOwner}`, 'the owner can replace the weights at any time: do not trust this deployment unless you trust that owner')
  if (opts.expectedOwner && raw.pendingOwner !== 0n && raw.pendingOwner !== BigInt(opts.expectedOwner))
    return fail('owner', `pending owner is ${st.pendingOwner}, expected none or ${opts.expectedOwner}`, 'the pending owner can take the contract (acceptOwnership) at any time, then replace the weights')
  return found
}

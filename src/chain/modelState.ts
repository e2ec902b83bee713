import { zeroAddress, zeroHash, type Abi, type Hex } from 'viem'
import { ChainError } from '../errors/base.ts'
import type { ChainSession } from './connectChain.ts'
import { chainErrorFrom } from './sendTx.ts'

/** What the model contract says about itself (its public views). */
export type ModelOnChain = {
  owner: Hex
  pendingOwner: Hex
  /** Bumped by every completed upload (ModelUpdated). */
  version: number
  /** keccak256 of the weights the contract holds, recomputed on chain from its data contracts (zero while not ready). */
  commitment: Hex
  /** False while an upload is incomplete: inference then reverts NotReady. */
  ready: boolean
  chunksWritten: number
  /** Data contracts holding the weight chunks, in order (empty when the weights live in the contract's own code). */
  chunks: Hex[]
}

export const hasFunction = (abi: Abi, name: string) => abi.some((x) => x.type === 'function' && x.name === name)

export async function readView<T>(s: ChainSession, address: Hex, abi: Abi, functionName: string, args: unknown[] = []): Promise<T> {
  try {
    return (await s.publicClient.readContract({ address, abi, functionName, args })) as T
  } catch (e) {
    throw chainErrorFrom(e, `reading ${functionName}() at ${address}`, abi)
  }
}

/** Chunk count: from `info()` when the contract has it, else the caller's. */
async function chunkCount(s: ChainSession, address: Hex, abi: Abi, fallback?: number): Promise<number | undefined> {
  if (hasFunction(abi, 'info')) {
    const info = await readView<readonly bigint[]>(s, address, abi, 'info')
    return Number(info[5])
  }
  if (hasFunction(abi, 'CHUNKS')) return Number(await readView<bigint>(s, address, abi, 'CHUNKS'))
  return fallback
}

/** Read the contract's state; fails clearly when there is no contract at `address`. */
export async function readModelState(s: ChainSession, address: Hex, abi: Abi, opts: { chunks?: number } = {}): Promise<ModelOnChain> {
  const code = await s.publicClient.getCode({ address }).catch((e) => {
    throw chainErrorFrom(e, `reading the code at ${address}`)
  })
  if (!code || code === '0x') throw new ChainError(`no contract at ${address} on chain ${s.chainId}`, { hint: 'the chain was reset, or deployment.json belongs to another chain' })
  const [owner, pendingOwner, version, ready, written, n] = await Promise.all([
    readView<Hex>(s, address, abi, 'owner'),
    readView<Hex>(s, address, abi, 'pendingOwner'),
    readView<bigint>(s, address, abi, 'version'),
    readView<boolean>(s, address, abi, 'ready'),
    readView<bigint>(s, address, abi, 'chunksWritten'),
    chunkCount(s, address, abi, opts.chunks),
  ])
  // mid-upload the contract cannot hash its weights (some chunks are missing): commitment() reverts
  const commitment = ready ? await readView<Hex>(s, address, abi, 'commitment') : (zeroHash as Hex)
  let chunks: Hex[] = []
  if (n && hasFunction(abi, 'chunkAddress')) {
    chunks = await Promise.all(Array.from({ length: n }, (_, i) => readView<Hex>(s, address, abi, 'chunkAddress', [BigInt(i)])))
    if (chunks.every((a) => a === zeroAddress)) chunks = []
  }
  return { owner, pendingOwner, version: Number(version), commitment, ready, chunksWritten: Number(written), chunks }
}

/** Whether the data contract at `address` holds `chunk` (SSTORE2: code = STOP byte ++ data). */
export async function chunkMatches(s: ChainSession, address: Hex, chunk: Uint8Array): Promise<boolean> {
  const code = await s.publicClient.getCode({ address })
  if (!code || code.length !== 4 + 2 * chunk.length || !code.startsWith('0x00')) return false
  return Buffer.from(code.slice(4), 'hex').equals(Buffer.from(chunk))
}

/** The first chunk an upload of `commitment` still has to send to the contract (chunk count when none). */
export async function uploadStart(s: ChainSession, address: Hex, abi: Abi, commitment: Hex, chunks: number): Promise<number> {
  const [ready, written] = await Promise.all([readView<boolean>(s, address, abi, 'ready'), readView<bigint>(s, address, abi, 'chunksWritten')])
  if (ready && (await readView<Hex>(s, address, abi, 'commitment')) === commitment) return chunks
  return ready ? 0 : Math.min(Number(written), chunks)
}

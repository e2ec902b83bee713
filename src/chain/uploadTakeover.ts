import { encodeFunctionData, toHex, zeroHash, type Abi, type Hex } from 'viem'
import { commitmentOf } from '../codegen/weights/weightBlob.ts'
import { ChainError } from '../errors/base.ts'
import type { ChainSession } from './connectChain.ts'
import { readView } from './modelState.ts'
import { chainErrorFrom } from './txErrors.ts'

const GUARDS = /UploadInterleaved|CommitmentMismatch|ChunkOutOfOrder/

/**
 * Whether another upload of other weights holds the contract now: it finished (ready, another commitment),
 * or it is under way (the contract refuses our next chunk with UploadInterleaved: its chunk 0 came after ours).
 */
async function anotherUploadHolds(s: ChainSession, address: Hex, abi: Abi, blob: Uint8Array, sizes: number[], target: Hex): Promise<boolean> {
  const [ready, written] = await Promise.all([readView<boolean>(s, address, abi, 'ready'), readView<bigint>(s, address, abi, 'chunksWritten')])
  if (ready) return ((await readView<Hex>(s, address, abi, 'commitment')) ?? zeroHash) !== target
  const k = Number(written)
  if (k === 0 || k >= sizes.length) return false
  const at = sizes.slice(0, k).reduce((a, b) => a + b, 0)
  const data = encodeFunctionData({ abi, functionName: 'writeChunk', args: [BigInt(k), toHex(blob.subarray(at, at + sizes[k]!)), target] })
  try {
    await s.publicClient.call({ account: s.account, to: address, data })
    return false
  } catch (e) {
    return /UploadInterleaved/.test(chainErrorFrom(e, 'writeChunk', abi).message)
  }
}

/**
 * The error an upload ends with when another upload of the same contract (other weights, started after this
 * one's chunk 0) took it over: one clear line naming the winner's state, in place of the contract's guard
 * (UploadInterleaved, CommitmentMismatch, or ChunkOutOfOrder behind the other upload's chunks). The contract
 * never mixes the two: the other upload's weights go live whole, or nothing does. Any other error is `e`.
 */
export async function takeoverError(s: ChainSession, address: Hex, abi: Abi, blob: Uint8Array, sizes: number[], e: unknown, commitment?: Hex): Promise<unknown> {
  if (sizes.length < 2 || !(e instanceof ChainError) || !GUARDS.test(e.message)) return e
  const target = commitment ?? commitmentOf(blob)
  if (!/UploadInterleaved|CommitmentMismatch/.test(e.message) && !(await anotherUploadHolds(s, address, abi, blob, sizes, target).catch(() => false))) return e
  const at = /upload chunk (\d+\/\d+)/.exec(e.message)?.[1]
  return new ChainError(`another upload of other weights took over ${address}${at ? ` at chunk ${at}` : ''} of this one (${target.slice(0, 10)}…): it started later and wins; nothing of this upload goes live`, {
    hint: 'two updates of this model ran at once; check which weights it holds with `ml2sc verify`, and run `ml2sc update` again only to replace them with these',
    cause: e,
  })
}

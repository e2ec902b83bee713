import { encodeFunctionData, toHex, zeroHash, type Abi, type Hex } from 'viem'
import { commitmentOf } from '../codegen/weightBlob.ts'
import { ChainError } from '../errors/base.ts'
import type { ChainSession } from './connectChain.ts'
import { chunkMatches, hasFunction, readView } from './modelState.ts'
import { sendTx, TxReplacedError, type TxRecord } from './sendTx.ts'
import { freshUploadState, readUploadState, writeUploadState, type UploadState } from './uploadState.ts'

export type UploadProgress = (done: number, total: number, gasSoFar: number) => void

export type UploadOptions = {
  /** First chunk to send. Without it and with `stateFile`, the start is worked out from the chain and the state file. */
  from?: number
  /** `upload-state.json`: confirmed chunks are recorded there, and an interrupted upload resumes from it. */
  stateFile?: string
  onChunk?: (index: number, tx: TxRecord) => void | Promise<void>
  onProgress?: UploadProgress
  /** Told where an upload resumed (chunk index) and why. */
  onResume?: (from: number, note: string) => void
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** Test hook: ML2SC_TEST_UPLOAD_DELAY_MS pauses before each chunk so that a test can kill a run mid-upload. */
const testDelay = () => Number(process.env.ML2SC_TEST_UPLOAD_DELAY_MS ?? 0)

type Progress = { ready: boolean; written: number; commitment: Hex }
async function progressOf(s: ChainSession, address: Hex, abi: Abi): Promise<Progress> {
  const [ready, written] = await Promise.all([readView<boolean>(s, address, abi, 'ready'), readView<bigint>(s, address, abi, 'chunksWritten')])
  // mid-upload commitment() cannot hash the missing chunks (it reverts): only ask a ready contract
  const commitment = ready ? await readView<Hex>(s, address, abi, 'commitment') : zeroHash
  return { ready, written: Number(written), commitment }
}

const sameSizes = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i])

/** The state's confirmations below `from`, plus its pending transaction if the chain has confirmed it since. */
async function reconcile(s: ChainSession, st: UploadState, from: number): Promise<UploadState> {
  const chunks = st.chunks.filter((c) => c.index < from)
  if (st.pending && st.pending.index < from && !chunks.some((c) => c.index === st.pending!.index)) {
    // broadcast before the kill, confirmed on chain since: take its receipt
    const r = await s.publicClient.getTransactionReceipt({ hash: st.pending.hash }).catch(() => undefined)
    if (r?.status === 'success') chunks.push({ index: st.pending.index, hash: st.pending.hash, gasUsed: Number(r.gasUsed) })
  }
  chunks.sort((a, b) => a.index - b.index)
  return { ...st, chunks, pending: null, complete: false }
}

/**
 * Where to start, from the chain (the truth) and the state file (what we confirmed): the weights already
 * complete on chain → nothing to send; our own upload of these weights interrupted → the chain's
 * `chunksWritten()`; anything else → chunk 0 (which starts a new upload and stops inference).
 */
async function resumePoint(s: ChainSession, address: Hex, abi: Abi, target: Hex, sizes: number[], st: UploadState | undefined, file: string): Promise<{ from: number; state: UploadState; note: string }> {
  const chain = await progressOf(s, address, abi)
  const ours = st && st.chainId === s.chainId && st.address.toLowerCase() === address.toLowerCase() && st.commitment === target && sameSizes(st.chunkSizes, sizes)
  if (chain.ready && chain.commitment === target) {
    const state = ours ? st! : freshUploadState(s.chainId, address, target, sizes)
    return { from: sizes.length, state: { ...state, pending: null, complete: true }, note: 'the weights are already on chain' }
  }
  if (!ours || chain.ready || chain.written === 0) return { from: 0, state: freshUploadState(s.chainId, address, target, sizes), note: '' }
  // our interrupted upload: trust the chain's count, keep the confirmations we have below it
  const from = Math.min(chain.written, sizes.length)
  const state = await reconcile(s, st!, from)
  await writeUploadState(file, state)
  const missing = from - state.chunks.length
  return { from, state, note: `${from} of ${sizes.length} chunks already on chain${missing > 0 ? ` (${missing} confirmed on chain but not in ${file.split('/').pop()})` : ''}` }
}

/**
 * Write the weight blob chunk by chunk (one data contract per transaction, each well under the
 * per-transaction cap). Returns the transactions this call sent (not the ones a resumed upload had
 * confirmed before: those are in the state file).
 */
export async function uploadWeights(s: ChainSession, address: Hex, abi: Abi, blob: Uint8Array, chunkSizes: number[], opts: UploadOptions = {}): Promise<TxRecord[]> {
  const target = commitmentOf(blob)
  let state: UploadState | undefined
  let from = opts.from ?? 0
  if (opts.stateFile) {
    const previous = readUploadState(opts.stateFile)
    if (opts.from === undefined) {
      const r = await resumePoint(s, address, abi, target, chunkSizes, previous, opts.stateFile)
      from = r.from
      state = r.state
      if (r.note) opts.onResume?.(from, r.note)
    } else state = previous && previous.chainId === s.chainId && previous.address.toLowerCase() === address.toLowerCase() && previous.commitment === target ? await reconcile(s, previous, from) : freshUploadState(s.chainId, address, target, chunkSizes)
    // otherwise written from the first broadcast on: a failure before it leaves no state behind
    if (from >= chunkSizes.length) await writeUploadState(opts.stateFile, state)
  }
  const txs: TxRecord[] = []
  let gas = 0
  let replaced = 0
  let restarted = false
  const offsets = chunkSizes.map((_, i) => chunkSizes.slice(0, i).reduce((a, b) => a + b, 0))
  for (let i = from; i < chunkSizes.length; i++) {
    const chunk = blob.subarray(offsets[i]!, offsets[i]! + chunkSizes[i]!)
    const data = encodeFunctionData({ abi, functionName: 'writeChunk', args: [BigInt(i), toHex(chunk), target] })
    if (testDelay() > 0) await sleep(testDelay())
    const label = `upload chunk ${i + 1}/${chunkSizes.length}`
    let tx: TxRecord
    try {
      const { logs: _logs, ...sent } = await sendTx(s, label, { to: address, data }, abi, {
        beforeSend: state && opts.stateFile ? (hash) => writeUploadState(opts.stateFile!, (state = { ...state!, pending: { index: i, hash } })) : undefined,
      })
      tx = sent
    } catch (e) {
      // a chunk is refused when the chain holds chunks of another upload (interleaved, or left by one that
      // was interrupted): UploadInterleaved on the way, CommitmentMismatch at the last chunk. Start again
      // from chunk 0, once
      if (i > 0 && /UploadInterleaved|CommitmentMismatch/.test(String((e as Error).message)) && !restarted) {
        restarted = true
        opts.onResume?.(0, 'the chain holds chunks of another upload: starting again from chunk 1')
        if (state) state = { ...state, chunks: [], pending: null, complete: false }
        i = -1
        continue
      }
      if (!(e instanceof TxReplacedError)) throw e
      // another transaction took our nonce: the chain says whether chunk i landed anyway
      const p = await progressOf(s, address, abi)
      if (p.written === i && ++replaced <= 3) {
        i--
        continue
      }
      const landed = p.written === i + 1 && hasFunction(abi, 'chunkAddress') && (await chunkMatches(s, await readView<Hex>(s, address, abi, 'chunkAddress', [BigInt(i)]), chunk))
      if (!landed) throw e
      tx = { label, hash: '0x' as Hex, gasUsed: 0, to: address }
    }
    txs.push(tx)
    gas += tx.gasUsed
    if (state && opts.stateFile) {
      state = { ...state, chunks: [...state.chunks.filter((c) => c.index !== i), { index: i, hash: tx.hash, gasUsed: tx.gasUsed }], pending: null, complete: i + 1 === chunkSizes.length }
      await writeUploadState(opts.stateFile, state)
    }
    await opts.onChunk?.(i, tx)
    opts.onProgress?.(i + 1, chunkSizes.length, gas)
  }
  if (opts.stateFile && from < chunkSizes.length) {
    const p = await progressOf(s, address, abi)
    if (!p.ready || p.commitment !== target)
      throw new ChainError(`after the upload the contract's commitment is ${p.commitment}${p.ready ? '' : ' (not ready)'}, expected ${target}`, {
        hint: 'another process may be writing to the same contract; re-run to upload again',
      })
  }
  return txs
}

/** Every confirmed chunk transaction of the upload recorded in `stateFile` (resumed runs included). */
export function uploadRecords(stateFile: string, label = (i: number, n: number) => `upload chunk ${i + 1}/${n}`): TxRecord[] {
  const st = readUploadState(stateFile)
  if (!st) return []
  return st.chunks.map((c) => ({ label: label(c.index, st.chunkSizes.length), hash: c.hash, gasUsed: c.gasUsed }))
}

import { encodeFunctionData, toHex, zeroHash, type Abi, type Hex } from 'viem'
import { ERRORS, selectorOf } from '../codegen/admin/abiSignatures.ts'
import { UPDATE_MARK } from '../codegen/admin/adminLibrary.ts'
import { commitmentOf } from '../codegen/weights/weightBlob.ts'
import { ChainError } from '../errors/base.ts'
import type { ChainSession } from './connectChain.ts'
import { chunkMatches, hasFunction, readView } from './modelState.ts'
import { isTransient } from './isTransient.ts'
import { chainErrorFrom, estimateTxGas, receiptOfBroadcast, submitTx, TxReplacedError, type PendingTx, type TxRecord } from './sendTx.ts'
import { uploadGasFrom } from './uploadGas.ts'
import { takeoverError } from './uploadTakeover.ts'
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
  /** The commitment the chunks name, when `blob` is not the canonical blob itself (a forwarding model's kernel payload: runtime code ++ blob). */
  commitment?: Hex
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const bigMin = (a: bigint, b: bigint) => (a < b ? a : b)
/** Upload transactions sent before the oldest one's receipt is awaited. */
export const UPLOAD_IN_FLIGHT = 8
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
  for (const sent of [...(st.pending ? [st.pending] : []), ...(st.inFlight ?? [])]) {
    if (sent.index >= from || chunks.some((c) => c.index === sent.index)) continue
    // broadcast before the kill, confirmed on chain since: take its receipt
    const r = await s.publicClient.getTransactionReceipt({ hash: sent.hash }).catch(() => undefined)
    if (r?.status === 'success') chunks.push({ index: sent.index, hash: sent.hash, gasUsed: Number(r.gasUsed) })
  }
  chunks.sort((a, b) => a.index - b.index)
  return { ...st, chunks, pending: null, inFlight: [], complete: false }
}

/**
 * Where to start, from the chain (the truth) and the state file (what we confirmed): the weights already
 * complete on chain → nothing to send; our own upload of these weights interrupted → the chain's
 * `chunksWritten()`; anything else → chunk 0 (which starts a new upload and stops inference).
 */
async function resumePoint(s: ChainSession, address: Hex, abi: Abi, target: Hex, sizes: number[], st: UploadState | undefined, file: string): Promise<{ from: number; state: UploadState; note: string }> {
  // a chunk the interrupted run broadcast may still be in the node's pool: it lands (late) before the chain is read
  if (st?.chainId === s.chainId) for (const t of [...(st.pending ? [st.pending] : []), ...(st.inFlight ?? [])]) await receiptOfBroadcast(s, t.hash)
  const chain = await progressOf(s, address, abi)
  const ours = st && st.chainId === s.chainId && st.address.toLowerCase() === address.toLowerCase() && st.commitment === target && sameSizes(st.chunkSizes, sizes)
  if (chain.ready && chain.commitment === target) {
    // (a last chunk of ours that landed late is in the state's pending transactions: take its receipt)
    const state = ours ? await reconcile(s, st!, sizes.length) : freshUploadState(s.chainId, address, target, sizes)
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
 * Whether chunk 0 (`data`) must carry the update mark: the model holds no wei and refuses the chunk without
 * it (UpdateNotMarked: its weights are embedded in its code). The contract says so itself, by an eth_call.
 */
export async function needsMark(s: ChainSession, address: Hex, data: Hex): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      if ((await s.publicClient.getBalance({ address })) !== 0n) return false
      await s.publicClient.call({ account: s.account, to: address, data })
      return false
    } catch (e) {
      // the node did not answer: not the contract's word; ask again (as the sender retries), then give up clearly
      if (isTransient(e)) {
        if (attempt >= 6) throw chainErrorFrom(e, 'asking the contract whether the update needs its 1-wei mark')
        await sleep(250 * attempt)
        continue
      }
      // the revert data, wherever the node's error carries it (the message, or a `data` field down the causes)
      const wanted = selectorOf(ERRORS.UpdateNotMarked).slice(2).toLowerCase()
      for (let x: unknown = e, depth = 0; x && depth < 8; x = (x as { cause?: unknown }).cause, depth++) {
        const { message, data: d } = x as { message?: unknown; data?: unknown }
        if (`${String(message)} ${typeof d === 'string' ? d : typeof (d as { data?: unknown })?.data === 'string' ? (d as { data: string }).data : ''}`.toLowerCase().includes(wanted)) return true
      }
      return false
    }
  }
}

/**
 * Write the weight blob chunk by chunk (one data contract per transaction, each well under the
 * per-transaction cap). Returns the transactions this call sent (not the ones a resumed upload had
 * confirmed before: those are in the state file). An upload taken over by another one (other weights,
 * started later) fails with one clear line (uploadTakeover.ts).
 */
export async function uploadWeights(s: ChainSession, address: Hex, abi: Abi, blob: Uint8Array, chunkSizes: number[], opts: UploadOptions = {}): Promise<TxRecord[]> {
  try {
    return await writeChunks(s, address, abi, blob, chunkSizes, opts)
  } catch (e) {
    throw await takeoverError(s, address, abi, blob, chunkSizes, e, opts.commitment)
  }
}

async function writeChunks(s: ChainSession, address: Hex, abi: Abi, blob: Uint8Array, chunkSizes: number[], opts: UploadOptions): Promise<TxRecord[]> {
  const target = opts.commitment ?? commitmentOf(blob)
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
  // chunk 0 went out with the update mark and has not landed (yet); a stranger may force wei into the model
  // ahead of it (nothing can refuse a SELFDESTRUCT's), and the contract then refuses the mark (UnexpectedValue):
  // the model needs none any more, so chunk 0 goes again without it, once
  let marked = false
  let remarked = false
  const markRaced = async () => marked && !remarked && (await s.publicClient.getBalance({ address })) !== 0n
  const unmark = () => {
    remarked = true
    marked = false
    if (state) state = { ...state, pending: null, inFlight: [] }
    return 0
  }
  const n = chunkSizes.length
  const offsets = chunkSizes.map((_, k) => chunkSizes.slice(0, k).reduce((a, b) => a + b, 0))
  const chunkOf = (k: number) => blob.subarray(offsets[k]!, offsets[k]! + chunkSizes[k]!)
  const labelOf = (k: number) => `upload chunk ${k + 1}/${n}`
  const save = async (next: UploadState) => {
    state = next
    if (opts.stateFile) await writeUploadState(opts.stateFile, next)
  }
  const record = async (k: number, tx: TxRecord) => {
    txs.push(tx)
    gas += tx.gasUsed
    if (state) {
      const inFlight = (state.inFlight ?? []).filter((f) => f.index !== k)
      await save({ ...state, chunks: [...state.chunks.filter((c) => c.index !== k), { index: k, hash: tx.hash, gasUsed: tx.gasUsed }], pending: inFlight[0] ?? null, inFlight, complete: k + 1 === n })
    }
    if (k === 0) marked = false
    await opts.onChunk?.(k, tx)
    opts.onProgress?.(k + 1, n, gas)
  }
  // Pipelining: chunks after the first of a window are sent without waiting for the one before (consecutive
  // nonces: they share blocks). Their gas cannot be estimated on a chain that does not hold the previous
  // chunk yet (writeChunk would revert ChunkOutOfOrder), so it is the first chunk's estimate scaled by the
  // upload gas model, with room to spare (unused gas is not charged). The last chunk hashes every chunk
  // and checks the commitment: it waits for the others and is estimated on the chain that holds them.
  type Flight = { index: number; wait: () => Promise<TxRecord> }
  const flights: Flight[] = []
  let calibration: { gas: bigint; model: bigint } | undefined
  // the model's gas of chunk k as a middle chunk: the upload from k less the upload from k + 1
  // (every chunk encoded once, on first use: one pass over the blob for the whole upload)
  let gasFrom: ((k: number) => bigint) | undefined
  const uploadFrom = (k: number) => (gasFrom ??= uploadGasFrom(blob, chunkSizes, abi))(k)
  const modelGas = (k: number) => uploadFrom(k) - uploadFrom(k + 1)
  const settle = async (): Promise<unknown> => {
    const f = flights.shift()!
    try {
      await record(f.index, await f.wait())
      return undefined
    } catch (e) {
      return e
    }
  }
  /** Wait for everything in flight; the first failure, if any (later ones follow from it). */
  const drain = async (): Promise<unknown> => {
    let first: unknown
    while (flights.length) {
      const failed = await settle()
      first ??= failed
    }
    return first
  }
  /** After a failure in flight: go on from what the chain holds (a replaced nonce, or chunks that reverted behind it). */
  const recover = async (e: unknown, at: number): Promise<number> => {
    if (!(e instanceof TxReplacedError || (e instanceof ChainError && /ChunkOutOfOrder|gas limit may be too low/.test(e.message + (e.hint ?? ''))))) throw e
    const p = await progressOf(s, address, abi)
    if (++replaced > 3 || p.ready) throw e
    // a chunk whose transaction was replaced may have landed anyway (its data contract is there): keep it
    for (let k = at; k < p.written; k++) {
      if (txs.some((t) => t.label === labelOf(k)) || state?.chunks.some((c) => c.index === k)) continue
      const landed = hasFunction(abi, 'chunkAddress') && (await chunkMatches(s, await readView<Hex>(s, address, abi, 'chunkAddress', [BigInt(k)]), chunkOf(k)))
      if (!landed) return k
      await record(k, { label: labelOf(k), hash: '0x' as Hex, gasUsed: 0, to: address })
    }
    return Math.min(p.written, n)
  }
  // a chunk is refused when the chain holds chunks of another upload (interleaved, or left by one that was
  // interrupted): UploadInterleaved on the way, CommitmentMismatch at the last chunk. A resumed upload starts
  // again from chunk 0, once; one that sent its own chunk 0 was taken over by a later upload, which wins
  const anotherUpload = (e: unknown) => n > 1 && !restarted && from > 0 && /UploadInterleaved|CommitmentMismatch/.test(String((e as Error)?.message))
  const restart = () => {
    restarted = true
    opts.onResume?.(0, 'the chain holds chunks of another upload: starting again from chunk 1')
    if (state) state = { ...state, chunks: [], pending: null, inFlight: [], complete: false }
    calibration = undefined
    return 0
  }
  for (let i = from; i < n; ) {
    const last = i === n - 1
    if (last && flights.length) {
      const failed = await drain()
      if (failed) {
        i = (await markRaced()) ? unmark() : await recover(failed, from)
        continue
      }
    }
    const chunk = chunkOf(i)
    const data = encodeFunctionData({ abi, functionName: 'writeChunk', args: [BigInt(i), toHex(chunk), target] })
    // chunk 0 of the first update of a model with embedded weights carries the update mark (1 wei): it tells
    // its predict that the weights may have left its code (adminLibrary.ts); every other chunk carries none
    const mark = i === 0 && (await needsMark(s, address, data))
    if (i === 0) marked = mark
    const req = { to: address, data, ...(mark ? { value: UPDATE_MARK } : {}) }
    if (testDelay() > 0) await sleep(testDelay())
    const label = labelOf(i)
    const index = i
    let sent: PendingTx
    try {
      let gasLimit: bigint
      if (flights.length && calibration) gasLimit = bigMin(BigInt(s.txGasCap), (calibration.gas * modelGas(i)) / calibration.model + 30_000n)
      else {
        gasLimit = await estimateTxGas(s, label, req, abi)
        if (!last) calibration = { gas: gasLimit, model: modelGas(i) }
      }
      sent = await submitTx(s, label, { ...req, gas: gasLimit }, abi, {
        beforeSend: state && opts.stateFile ? (hash) => save({ ...state!, pending: { index, hash }, inFlight: [...(state!.inFlight ?? []).filter((f) => f.index !== index), { index, hash }] }) : undefined,
      })
    } catch (e) {
      const failed = await drain()
      if (i === 0 && (await markRaced())) {
        i = unmark()
        continue
      }
      if (i > 0 && anotherUpload(e)) {
        i = restart()
        continue
      }
      if (failed) {
        i = (await markRaced()) ? unmark() : await recover(failed, from)
        continue
      }
      throw e
    }
    flights.push({ index, wait: async () => {
      const { logs: _logs, ...tx } = await sent.wait()
      return tx
    } })
    i++
    if (flights.length >= UPLOAD_IN_FLIGHT || last) {
      const failed = last ? await drain() : await settle()
      if (failed) {
        await drain()
        i = anotherUpload(failed) ? restart() : (await markRaced()) ? unmark() : await recover(failed, from)
      }
    }
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

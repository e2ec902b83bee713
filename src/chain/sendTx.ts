import {
  BaseError,
  keccak256,
  TransactionNotFoundError,
  TransactionReceiptNotFoundError,
  type Abi,
  type Hex,
  type TransactionReceipt,
} from 'viem'
import { ChainError } from '../errors/base.ts'
import type { ChainSession } from './connectChain.ts'
import { backoff } from './rpcTransport.ts'
import { assertSpendingAllowed } from './spendGuard.ts'
import { revertedTxError } from './revertedTxError.ts'
import { chainErrorFrom, errorText, estimateTxGas, fundsError, isTransient, KNOWN, NONCE, FUNDS } from './txErrors.ts'

export { chainErrorFrom, errorText, estimateTxGas, isTransient }

export type TxRecord = { label: string; hash: Hex; gasUsed: number; to?: Hex; contractAddress?: Hex }
export type SentTx = TxRecord & { logs: { address: Hex; topics: Hex[]; data: Hex }[] }

/** The nonce our transaction had was taken by another transaction of the same account: ours never ran. */
export class TxReplacedError extends ChainError {
  override name = 'TxReplacedError'
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const nonces = new WeakMap<ChainSession, number>()
async function nonceFor(s: ChainSession, refresh = false): Promise<number> {
  if (refresh || !nonces.has(s)) nonces.set(s, await s.publicClient.getTransactionCount({ address: s.account.address, blockTag: 'pending' }))
  return nonces.get(s)!
}

type Fees = { type: 'eip1559'; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | { type: 'legacy'; gasPrice: bigint }
async function feesFor(s: ChainSession): Promise<Fees> {
  try {
    const f = await s.publicClient.estimateFeesPerGas()
    if (f.maxFeePerGas !== undefined) return { type: 'eip1559', maxFeePerGas: f.maxFeePerGas, maxPriorityFeePerGas: f.maxPriorityFeePerGas ?? 0n }
  } catch (e) {
    if (isTransient(e)) throw e
  }
  return { type: 'legacy', gasPrice: await s.publicClient.getGasPrice() }
}

async function txKnown(s: ChainSession, hash: Hex): Promise<boolean> {
  try {
    await s.publicClient.getTransaction({ hash })
    return true
  } catch (e) {
    if (e instanceof TransactionNotFoundError || (e instanceof BaseError && e.walk((x) => x instanceof TransactionNotFoundError))) return false
    if (isTransient(e)) return false
    return false
  }
}

async function receiptOf(s: ChainSession, hash: Hex): Promise<TransactionReceipt | undefined> {
  try {
    return await s.publicClient.getTransactionReceipt({ hash })
  } catch (e) {
    if (e instanceof TransactionReceiptNotFoundError || (e instanceof BaseError && e.walk((x) => x instanceof TransactionReceiptNotFoundError))) return undefined
    if (isTransient(e)) return undefined
    throw e
  }
}

const txTimeoutMs = () => Number(process.env.ML2SC_TX_TIMEOUT_MS ?? 600_000)

/**
 * Wait for a receipt, polling fast at first (an automining anvil answers at once) then every 2 s. A
 * transaction the node forgot (dropped from its pool) is broadcast again; one whose nonce another
 * transaction took is reported as a TxReplacedError so that the caller can re-check the chain.
 */
async function waitForReceipt(s: ChainSession, label: string, hash: Hex, sent?: { raw: Hex; nonce: number }): Promise<TransactionReceipt> {
  const t0 = Date.now()
  let delay = 0
  for (let poll = 1; ; poll++) {
    if (delay) await sleep(delay)
    delay = Math.min(delay ? delay * 2 : 25, 2_000)
    const r = await receiptOf(s, hash)
    if (r) return r
    if (sent && poll % 6 === 0 && !(await txKnown(s, hash))) {
      const mined = await s.publicClient.getTransactionCount({ address: s.account.address, blockTag: 'latest' }).catch(() => undefined)
      const again = await receiptOf(s, hash)
      if (again) return again
      if (mined !== undefined && mined > sent.nonce) {
        nonces.delete(s)
        throw new TxReplacedError(`${label}: transaction ${hash} was replaced by another transaction of ${s.account.address} (nonce ${sent.nonce})`, {
          hint: 'another program is sending from the same account; re-run when it is done (confirmed work is not sent again)',
        })
      }
      // dropped from the node's pool: broadcast the same signed bytes again
      await s.walletClient.sendRawTransaction({ serializedTransaction: sent.raw }).catch(() => {})
    }
    if (Date.now() - t0 > txTimeoutMs())
      throw new ChainError(`${label}: transaction ${hash} was not mined within ${Math.round(txTimeoutMs() / 1000)} s`, {
        hint: 'the network may be congested or the fee too low; re-run later (confirmed work is not sent again)',
      })
  }
}

/**
 * The receipt of a transaction broadcast earlier (by a run that was killed or gave up waiting): at once when
 * it is mined, waited for while the node still holds it in its pool (it lands late), and undefined when the
 * node knows nothing of it (dropped: it will never land).
 */
export async function receiptOfBroadcast(s: ChainSession, hash: Hex): Promise<TransactionReceipt | undefined> {
  const t0 = Date.now()
  for (let delay = 25; ; delay = Math.min(delay * 2, 2_000)) {
    const r = await receiptOf(s, hash)
    if (r) return r
    if (!(await txKnown(s, hash))) return await receiptOf(s, hash)
    if (Date.now() - t0 > txTimeoutMs())
      throw new ChainError(`transaction ${hash} of the interrupted run is still in the node's pool after ${Math.round(txTimeoutMs() / 1000)} s`, {
        hint: 'it may land later: re-run then (confirmed work is not sent again)',
      })
    await sleep(delay)
  }
}

export type SendHooks = {
  /** Called with the transaction hash before it is broadcast (locally signed) or right after (node-signed). */
  beforeSend?: (hash: Hex) => void | Promise<void>
}

/** Sign locally and broadcast, surviving dropped responses, nonce races and flaky RPCs. */
async function sendSigned(s: ChainSession, label: string, req: { to?: Hex; data: Hex; value?: bigint }, gas: bigint, abi?: Abi, hooks?: SendHooks): Promise<{ hash: Hex; raw: Hex; nonce: number }> {
  const account = s.account as Extract<ChainSession['account'], { type: 'local' }>
  let nonce = await nonceFor(s)
  let fees = await feesFor(s)
  const sign = async () => {
    const raw = await account.signTransaction({ chainId: s.chainId, to: req.to ?? null, data: req.data, value: req.value, gas, nonce, ...fees } as Parameters<typeof account.signTransaction>[0])
    return { raw, hash: keccak256(raw) }
  }
  let { raw, hash } = await sign()
  for (let attempt = 0; ; attempt++) {
    await hooks?.beforeSend?.(hash)
    try {
      await s.walletClient.sendRawTransaction({ serializedTransaction: raw })
      break
    } catch (e) {
      const text = errorText(e)
      if (KNOWN.test(text)) break
      if (FUNDS.test(text)) throw await fundsError(s, label, e)
      if (NONCE.test(text) || isTransient(e)) {
        // a retried send whose first attempt got through, or a nonce another sender took
        if (await txKnown(s, hash)) break
        if (attempt >= 6) throw chainErrorFrom(e, label, abi)
        if (isTransient(e)) await sleep(backoff(attempt, 250))
        // never below the nonce just tried: with transactions in flight, a node that lost an earlier one
        // (dropped from its pool) reports a lower count, and reusing it would replace our own transaction
        nonce = Math.max(nonce, await nonceFor(s, true))
        if (/underpriced|fee too low/.test(text)) fees = await feesFor(s)
        ;({ raw, hash } = await sign())
        continue
      }
      nonces.delete(s)
      throw chainErrorFrom(e, label, abi)
    }
  }
  nonces.set(s, nonce + 1)
  return { hash, raw, nonce }
}

/** A transaction broadcast and not yet confirmed: `wait()` gives its receipt's record (or fails clearly if it reverted). */
export type PendingTx = { label: string; hash: Hex; nonce?: number; wait: () => Promise<SentTx> }

/**
 * Sign and broadcast one transaction without waiting for it: the next call gets the next nonce, so
 * independent transactions (upload chunks, evaluation batches) go out back to back and share blocks.
 * `req.gas` skips eth_estimateGas (needed when the call only succeeds after an earlier pending one).
 */
export async function submitTx(s: ChainSession, label: string, req: { to?: Hex; data: Hex; value?: bigint; gas?: bigint }, abi?: Abi, hooks?: SendHooks): Promise<PendingTx> {
  assertSpendingAllowed(s, label)
  const gas = req.gas ?? (await estimateTxGas(s, label, req, abi))
  let hash: Hex
  let sent: { raw: Hex; nonce: number } | undefined
  if (s.account.type === 'local') {
    const r = await sendSigned(s, label, req, gas, abi, hooks)
    hash = r.hash
    sent = r
  } else {
    try {
      hash = await s.walletClient.sendTransaction({ account: s.account, chain: s.chain, to: req.to, data: req.data, value: req.value, gas })
      await hooks?.beforeSend?.(hash)
    } catch (e) {
      if (FUNDS.test(errorText(e))) throw await fundsError(s, label, e)
      throw chainErrorFrom(e, label, abi)
    }
  }
  const wait = async (): Promise<SentTx> => {
    const receipt = await waitForReceipt(s, label, hash, sent)
    if (receipt.status !== 'success') throw await revertedTxError(s, label, { hash, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed, gas }, req, abi)
    return {
      label,
      hash,
      gasUsed: Number(receipt.gasUsed),
      to: req.to,
      contractAddress: receipt.contractAddress ?? undefined,
      logs: receipt.logs.map((l) => ({ address: l.address, topics: l.topics as Hex[], data: l.data })),
    }
  }
  return { label, hash, nonce: sent?.nonce, wait }
}

/** Send one transaction, wait for its receipt, and fail clearly if it reverted. */
export async function sendTx(s: ChainSession, label: string, req: { to?: Hex; data: Hex; value?: bigint; gas?: bigint }, abi?: Abi, hooks?: SendHooks): Promise<SentTx> {
  return await (await submitTx(s, label, req, abi, hooks)).wait()
}

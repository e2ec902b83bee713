import {
  BaseError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  formatEther,
  HttpRequestError,
  keccak256,
  TimeoutError,
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

export type TxRecord = { label: string; hash: Hex; gasUsed: number; to?: Hex; contractAddress?: Hex }
export type SentTx = TxRecord & { logs: { topics: Hex[]; data: Hex }[] }

/** The nonce our transaction had was taken by another transaction of the same account: ours never ran. */
export class TxReplacedError extends ChainError {
  override name = 'TxReplacedError'
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Every message in a viem error's cause chain, lowercased, for classifying node errors. */
export function errorText(e: unknown): string {
  const parts: string[] = []
  let x = e as { shortMessage?: string; details?: string; message?: string; cause?: unknown } | undefined
  for (let i = 0; x && i < 8; i++) {
    parts.push(String(x.shortMessage ?? ''), String(x.details ?? ''), String(x.message ?? ''))
    x = x.cause as typeof x
  }
  return parts.join(' | ').toLowerCase()
}

const KNOWN = /already known|known transaction|already imported|transaction already exists/
const NONCE = /nonce too low|nonce too high|invalid nonce|nonce has already been used|replacement transaction underpriced|replacement fee too low|nonce is too low/
const FUNDS = /insufficient funds|insufficient balance/

/** A failure worth retrying: the RPC did not answer (after the transport's own retries). */
export function isTransient(e: unknown): boolean {
  if (e instanceof BaseError && e.walk((x) => x instanceof HttpRequestError || x instanceof TimeoutError)) return true
  return /fetch failed|socket|econnreset|econnrefused|connection (was )?closed|timed out|took too long|http 5\d\d|status: 5\d\d/.test(errorText(e))
}

/** What to do about each of the model contract's custom errors. */
const REVERT_HINTS: Record<string, string> = {
  NotOwner: "only the contract's owner may do this: set ML2SC_PRIVATE_KEY to the owner's key",
  NotPendingOwner: 'only the account named by transferOwnership may accept the ownership',
  NotReady: 'the weights are not all on chain (an upload is incomplete): finish it with `ml2sc upload` or `ml2sc update`',
  ChunkOutOfOrder: 'weight chunks go in order from 0: re-run to resume the upload',
  BadChunkLength: 'the contract was generated for another chunk size (batch.upload) or another model',
  BadInputLength: "the rows do not match the contract's input size",
  DataDeployFailed: 'creating the data contract failed: the gas limit may be too low',
  AdminLibraryMissing: "ml2sc's shared admin library is not on this chain: `ml2sc deploy` puts it there (once per chain, through the CREATE2 deployment proxy)",
}

/** Turn a viem failure into one line, decoding the model contract's custom errors. */
export function chainErrorFrom(e: unknown, what: string, abi?: Abi): ChainError {
  if (e instanceof ChainError) return e
  if (e instanceof BaseError) {
    const reverted = e.walk((x) => x instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null
    if (reverted?.data) return new ChainError(`${what} reverted: ${reverted.data.errorName}(${(reverted.data.args ?? []).join(', ')})`, { hint: REVERT_HINTS[reverted.data.errorName], cause: e })
    const raw = (e.walk((x) => typeof (x as { data?: unknown }).data === 'string' && /^0x[0-9a-f]{8}/i.test((x as { data: string }).data)) as { data?: Hex } | null)?.data
    if (raw && abi) {
      try {
        const d = decodeErrorResult({ abi, data: raw })
        return new ChainError(`${what} reverted: ${d.errorName}(${(d.args ?? []).join(', ')})`, { hint: REVERT_HINTS[d.errorName], cause: e })
      } catch {}
    }
    const msg = e.shortMessage.split('\n')[0]!
    const text = errorText(e)
    const hint = FUNDS.test(text)
      ? 'fund the account of ML2SC_PRIVATE_KEY'
      : /gas limit|exceeds.*(cap|allowance)|intrinsic gas|gas required exceeds/.test(text)
        ? 'the transaction is over the per-transaction gas cap: lower batch.rows or batch.upload'
        : isTransient(e)
          ? 'the RPC did not answer after several retries; check the node, then re-run (confirmed uploads are not sent again)'
          : undefined
    return new ChainError(`${what} failed: ${msg}`, { hint, details: e.details, cause: e })
  }
  return new ChainError(`${what} failed: ${String((e as Error)?.message ?? e).split('\n')[0]}`, { cause: e })
}

async function fundsError(s: ChainSession, what: string, cause: unknown): Promise<ChainError> {
  const balance = await s.publicClient.getBalance({ address: s.account.address }).catch(() => undefined)
  return new ChainError(`${what}: insufficient funds in ${s.account.address}${balance === undefined ? '' : ` (balance ${formatEther(balance)} ETH)`}`, {
    where: s.local ? undefined : 'ML2SC_PRIVATE_KEY',
    hint: 'fund the account of ML2SC_PRIVATE_KEY; the estimated cost is printed before anything is spent',
    cause,
  })
}

/** Gas for a transaction: eth_estimateGas (which also surfaces reverts) checked against the per-transaction cap. */
export async function estimateTxGas(s: ChainSession, label: string, req: { to?: Hex; data: Hex }, abi?: Abi): Promise<bigint> {
  let est: bigint
  try {
    est = await s.publicClient.estimateGas({ account: s.account, to: req.to, data: req.data })
  } catch (e) {
    if (FUNDS.test(errorText(e))) throw await fundsError(s, label, e)
    throw chainErrorFrom(e, label, abi)
  }
  const cap = BigInt(s.txGasCap)
  if (est > cap)
    throw new ChainError(`${label} needs ${est.toLocaleString('en-US')} gas, over the per-transaction cap of ${cap.toLocaleString('en-US')}`, {
      where: 'chain.txGasCap',
      hint: label.startsWith('deploy')
        ? 'raise chain.txGasCap: a deployment cannot be split (mainnet allows up to 16,777,216 gas per transaction, EIP-7825)'
        : 'lower batch.rows (evaluation) or batch.upload (weights); mainnet refuses transactions over 16,777,216 gas (EIP-7825)',
    })
  const padded = est + est / 10n
  return padded > cap ? cap : padded
}

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

export type SendHooks = {
  /** Called with the transaction hash before it is broadcast (locally signed) or right after (node-signed). */
  beforeSend?: (hash: Hex) => void | Promise<void>
}

/** Sign locally and broadcast, surviving dropped responses, nonce races and flaky RPCs. */
async function sendSigned(s: ChainSession, label: string, req: { to?: Hex; data: Hex }, gas: bigint, abi?: Abi, hooks?: SendHooks): Promise<{ hash: Hex; raw: Hex; nonce: number }> {
  const account = s.account as Extract<ChainSession['account'], { type: 'local' }>
  let nonce = await nonceFor(s)
  let fees = await feesFor(s)
  const sign = async () => {
    const raw = await account.signTransaction({ chainId: s.chainId, to: req.to ?? null, data: req.data, gas, nonce, ...fees } as Parameters<typeof account.signTransaction>[0])
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
        nonce = await nonceFor(s, true)
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

/** Send one transaction, wait for its receipt, and fail clearly if it reverted. */
export async function sendTx(s: ChainSession, label: string, req: { to?: Hex; data: Hex; gas?: bigint }, abi?: Abi, hooks?: SendHooks): Promise<SentTx> {
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
      hash = await s.walletClient.sendTransaction({ account: s.account, chain: s.chain, to: req.to, data: req.data, gas })
      await hooks?.beforeSend?.(hash)
    } catch (e) {
      if (FUNDS.test(errorText(e))) throw await fundsError(s, label, e)
      throw chainErrorFrom(e, label, abi)
    }
  }
  const receipt = await waitForReceipt(s, label, hash, sent)
  if (receipt.status !== 'success') {
    // replay as a call to recover the revert reason
    try {
      await s.publicClient.call({ account: s.account, to: req.to, data: req.data, gas, blockNumber: receipt.blockNumber - 1n })
    } catch (e) {
      throw chainErrorFrom(e, label, abi)
    }
    throw new ChainError(`${label} reverted (transaction ${hash})`, { hint: 'the gas limit may be too low' })
  }
  return {
    label,
    hash,
    gasUsed: Number(receipt.gasUsed),
    to: req.to,
    contractAddress: receipt.contractAddress ?? undefined,
    logs: receipt.logs.map((l) => ({ topics: l.topics as Hex[], data: l.data })),
  }
}

import { BaseError, ContractFunctionRevertedError, decodeErrorResult, type Abi, type Hex } from 'viem'
import { ChainError } from '../errors/base.ts'
import type { ChainSession } from './connectChain.ts'

export type TxRecord = { label: string; hash: Hex; gasUsed: number; to?: Hex; contractAddress?: Hex }
export type SentTx = TxRecord & { logs: { topics: Hex[]; data: Hex }[] }

/** Turn a viem failure into one line, decoding the model contract's custom errors. */
export function chainErrorFrom(e: unknown, what: string, abi?: Abi): ChainError {
  if (e instanceof ChainError) return e
  if (e instanceof BaseError) {
    const reverted = e.walk((x) => x instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null
    if (reverted?.data) return new ChainError(`${what} reverted: ${reverted.data.errorName}(${(reverted.data.args ?? []).join(', ')})`, { cause: e })
    const raw = (e.walk((x) => typeof (x as { data?: unknown }).data === 'string') as { data?: Hex } | null)?.data
    if (raw && abi) {
      try {
        const d = decodeErrorResult({ abi, data: raw })
        return new ChainError(`${what} reverted: ${d.errorName}(${(d.args ?? []).join(', ')})`, { cause: e })
      } catch {}
    }
    const msg = e.shortMessage
    const hint = /insufficient funds/i.test(msg)
      ? 'fund the account of ML2SC_PRIVATE_KEY'
      : /gas limit|exceeds.*cap|intrinsic gas/i.test(msg)
        ? 'the transaction is over the per-transaction gas cap: lower batch.rows or batch.upload'
        : undefined
    return new ChainError(`${what} failed: ${msg}`, { hint, details: e.details, cause: e })
  }
  return new ChainError(`${what} failed: ${String((e as Error)?.message ?? e)}`, { cause: e })
}

/** Send one transaction, wait for its receipt, and fail clearly if it reverted. */
export async function sendTx(
  s: ChainSession,
  label: string,
  req: { to?: Hex; data: Hex; gas?: bigint },
  abi?: Abi,
): Promise<SentTx> {
  let hash: Hex
  try {
    hash = await s.walletClient.sendTransaction({ account: s.account, chain: s.chain, to: req.to, data: req.data, gas: req.gas })
  } catch (e) {
    throw chainErrorFrom(e, label, abi)
  }
  const receipt = await s.publicClient.waitForTransactionReceipt({ hash, timeout: 300_000 })
  if (receipt.status !== 'success') {
    // replay as a call to recover the revert reason
    try {
      await s.publicClient.call({ account: s.account, to: req.to, data: req.data, blockNumber: receipt.blockNumber - 1n })
    } catch (e) {
      throw chainErrorFrom(e, label, abi)
    }
    throw new ChainError(`${label} reverted (transaction ${hash})`, { hint: 'the gas limit may be too low' })
  }
  return { label, hash, gasUsed: Number(receipt.gasUsed), to: req.to, contractAddress: receipt.contractAddress ?? undefined, logs: receipt.logs.map((l) => ({ topics: l.topics as Hex[], data: l.data })) }
}

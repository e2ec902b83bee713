import {
  BaseError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  formatEther,
  type Abi,
  type Hex,
} from 'viem'
import { ChainError } from '../errors/base.ts'
import type { ChainSession } from './connectChain.ts'
import { errorText, isTransient } from './isTransient.ts'

export { errorText, isTransient }

// How node failures are classified and turned into one line, and the gas estimate every send starts from.
// Kept apart from sendTx so that the spend guard can estimate without importing the sender (which imports it).


export const KNOWN = /already known|known transaction|already imported|transaction already exists/
export const NONCE = /nonce too low|nonce too high|invalid nonce|nonce has already been used|replacement transaction underpriced|replacement fee too low|nonce is too low/
export const FUNDS = /insufficient funds|insufficient balance/
/** A node's "this needs more gas than a block holds" (geth, anvil, Hardhat wordings). */
export const OVER_LIMIT = /gas required exceeds|exceeds (the )?block gas limit|exceeds allowance/


/** What to do about each of the model contract's custom errors. */
const REVERT_HINTS: Record<string, string> = {
  NotOwner: "only the contract's owner may do this: set ML2SC_PRIVATE_KEY to the owner's key",
  NotPendingOwner: 'only the account named by transferOwnership may accept the ownership',
  NotReady: 'the weights are not all on chain (an upload is incomplete): finish it with `ml2sc upload` or `ml2sc update`',
  ChunkOutOfOrder: 'weight chunks go in order from 0: re-run to resume the upload',
  UploadInterleaved: 'another upload (other weights) is in progress on this contract: run again, it restarts from chunk 1',
  CommitmentMismatch: 'the chunks on chain are not all from this upload (another upload wrote in between): run again, it restarts from chunk 1',
  BadChunkLength: 'the contract was generated for another chunk size (batch.upload) or another model',
  BadInputLength: "the rows do not match the contract's input size",
  BadCategory: 'BadCategory(row, feature, value): that feature feeds an nn.Embedding and must be a whole category index below its num_embeddings',
  DataDeployFailed: 'creating the data contract failed: the gas limit may be too low',
  VersionOverflow: "the contract's version counter is at its maximum (2^32−1), which no genuine model reaches: it was deployed with a preset state; deploy a fresh contract",
  AdminLibraryMissing: "ml2sc's shared admin library is not on this chain: `ml2sc deploy` puts it there (once per chain, through the CREATE2 deployment proxy)",
}

/**
 * The one line for revert data that is one of the contract's custom errors (`what reverted: Name(args)`,
 * then `where`), with its hint; undefined when the data decodes to none of them.
 */
export function revertDataError(data: string, what: string, abi: Abi | undefined, where = '', cause?: unknown): ChainError | undefined {
  if (!abi || !/^0x[0-9a-f]{8}/i.test(data)) return undefined
  try {
    const d = decodeErrorResult({ abi, data: data as Hex })
    return new ChainError(`${what} reverted: ${d.errorName}(${(d.args ?? []).join(', ')})${where}`, { hint: REVERT_HINTS[d.errorName], cause })
  } catch {
    return undefined
  }
}

/** Turn a viem failure into one line, decoding the model contract's custom errors. */
export function chainErrorFrom(e: unknown, what: string, abi?: Abi): ChainError {
  if (e instanceof ChainError) return e
  if (e instanceof BaseError) {
    const reverted = e.walk((x) => x instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null
    if (reverted?.data) return new ChainError(`${what} reverted: ${reverted.data.errorName}(${(reverted.data.args ?? []).join(', ')})`, { hint: REVERT_HINTS[reverted.data.errorName], cause: e })
    const raw = (e.walk((x) => typeof (x as { data?: unknown }).data === 'string' && /^0x[0-9a-f]{8}/i.test((x as { data: string }).data)) as { data?: Hex } | null)?.data
    const decoded = raw && revertDataError(raw, what, abi, '', e)
    if (decoded) return decoded
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

export async function fundsError(s: ChainSession, what: string, cause: unknown): Promise<ChainError> {
  const balance = await s.publicClient.getBalance({ address: s.account.address }).catch(() => undefined)
  return new ChainError(`${what}: insufficient funds in ${s.account.address}${balance === undefined ? '' : ` (balance ${formatEther(balance)} ETH)`}`, {
    where: s.local ? undefined : 'ML2SC_PRIVATE_KEY',
    hint: 'fund the account of ML2SC_PRIVATE_KEY; the estimated cost is printed before anything is spent',
    cause,
  })
}

/** A transaction needs more gas than the session's cap: the message names which limit binds, the node's or the config's. */
export function overCapError(s: ChainSession, label: string, gas: bigint | number | undefined): ChainError {
  const cap = s.txGasCap.toLocaleString('en-US')
  const needs = gas === undefined ? 'more gas than' : `${gas.toLocaleString('en-US')} gas, over`
  const deploy = /^deploy/.test(label)
  if (s.gasCapFrom === 'block gas limit')
    return new ChainError(`${label} needs ${needs} the node's block gas limit of ${cap}`, {
      where: 'chain.rpcUrl',
      hint: deploy
        ? "a deployment cannot be split: raise the node's block gas limit (anvil --gas-limit, Hardhat blockGasLimit) or use another node"
        : "lower batch.rows (evaluation) or batch.upload (weights), or raise the node's block gas limit",
    })
  return new ChainError(`${label} needs ${needs} the per-transaction cap of ${cap}`, {
    where: 'chain.txGasCap',
    hint: deploy
      ? 'raise chain.txGasCap: a deployment cannot be split (mainnet allows up to 16,777,216 gas per transaction, EIP-7825)'
      : 'lower batch.rows (evaluation) or batch.upload (weights); mainnet refuses transactions over 16,777,216 gas (EIP-7825)',
  })
}

/** Gas for a transaction: eth_estimateGas (which also surfaces reverts) checked against the per-transaction cap. */
export async function estimateTxGas(s: ChainSession, label: string, req: { to?: Hex; data: Hex; value?: bigint }, abi?: Abi): Promise<bigint> {
  let est: bigint
  try {
    est = await s.publicClient.estimateGas({ account: s.account, to: req.to, data: req.data, value: req.value })
  } catch (e) {
    const text = errorText(e)
    if (FUNDS.test(text)) throw await fundsError(s, label, e)
    // the node could not fit it in a block (its estimate runs up to the block gas limit)
    if (OVER_LIMIT.test(text)) throw overCapError(s, label, undefined)
    throw chainErrorFrom(e, label, abi)
  }
  const cap = BigInt(s.txGasCap)
  if (est > cap) throw overCapError(s, label, est)
  const padded = est + est / 10n
  return padded > cap ? cap : padded
}

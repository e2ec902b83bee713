import { decodeAbiParameters, encodeFunctionData, type Abi, type Hex } from 'viem'
import { packRowWords, packRows, unpackOutputs } from '../fixed/encodeRows.ts'
import type { Plan } from '../fixed/types.ts'
import { ChainError } from '../errors/base.ts'
import type { ChainSession } from './connectChain.ts'
import type { CostItem } from './costItem.ts'
import { chainErrorFrom, sendTx, submitTx, TxReplacedError, type SentTx, type TxRecord } from './sendTx.ts'


/**
 * Inference changes nothing on chain, so a transaction whose nonce another transaction took (it never
 * ran) is simply sent again, once.
 */
async function sendStateless(s: ChainSession, label: string, req: { to: Hex; data: Hex }, abi: Abi) {
  try {
    return await sendTx(s, label, req, abi)
  } catch (e) {
    if (!(e instanceof TxReplacedError)) throw e
    return await sendTx(s, label, req, abi)
  }
}

export type BatchResult = { tx: TxRecord; rows: number; outputs: bigint[][] }

/** Gas of one evaluation step: a transaction's (hash, gas from its receipt) or a call's (no hash, gas from eth_estimateGas). */
export type GasRecord = { label: string; hash: Hex | null; gasUsed: number }

/** eth_estimateGas of a request from our account: for this code it is the gas the transaction would use. */
async function estimateOf(s: ChainSession, label: string, req: { to: Hex; data: Hex }, abi: Abi): Promise<number> {
  try {
    return Number(await s.publicClient.estimateGas({ account: s.account, to: req.to, data: req.data }))
  } catch (e) {
    throw chainErrorFrom(e, label, abi)
  }
}

/** One predictBatch answered through eth_call, its gas from eth_estimateGas: nothing is sent. */
export async function predictBatchEstimate(s: ChainSession, address: Hex, abi: Abi, plan: Plan, rows: bigint[][], label: string): Promise<{ tx: GasRecord; rows: number; outputs: bigint[][] }> {
  const data = encodeFunctionData({ abi, functionName: 'predictBatch', args: [packRows(plan, rows)] })
  const [outputs, gasUsed] = await Promise.all([predictBatchCall(s, address, abi, plan, rows), estimateOf(s, label, { to: address, data }, abi)])
  return { tx: { label, hash: null, gasUsed }, rows: rows.length, outputs }
}

/**
 * Send one predictBatch transaction and read the outputs back from its Predictions event. `gas`: its limit
 * (else eth_estimateGas, which runs the whole batch again, several times on most nodes, before it is sent).
 */
export async function predictBatchTx(s: ChainSession, address: Hex, abi: Abi, plan: Plan, rows: bigint[][], label: string, gas?: bigint): Promise<BatchResult> {
  return await (await submitPredictBatch(s, address, abi, plan, rows, label, gas)).wait()
}

/**
 * Broadcast one predictBatch transaction without waiting for it (the next one takes the next nonce and
 * can share its block); `wait()` reads the outputs from its Predictions event. Inference changes nothing,
 * so batches are independent, and one whose nonce another transaction took is simply sent again.
 */
export async function submitPredictBatch(s: ChainSession, address: Hex, abi: Abi, plan: Plan, rows: bigint[][], label: string, gas?: bigint): Promise<{ wait: () => Promise<BatchResult> }> {
  const req = { to: address, data: encodeFunctionData({ abi, functionName: 'predictBatch', args: [packRows(plan, rows)] }) }
  const pending = await submitTx(s, label, { ...req, gas }, abi)
  const wait = async () => {
    let tx: SentTx
    try {
      tx = await pending.wait()
    } catch (e) {
      // replaced, or (with a gas limit from the measured line) out of gas: sent again, estimated this time
      if (!(e instanceof TxReplacedError) && !(gas !== undefined && e instanceof ChainError)) throw e
      tx = await sendTx(s, label, req, abi)
    }
    return batchResult(tx, address, plan, rows, label)
  }
  return { wait }
}

/** The outputs are the model's anonymous Predictions event: the one topicless log the model itself emits. */
function batchResult(tx: SentTx, address: Hex, plan: Plan, rows: bigint[][], label: string): BatchResult {
  const log = tx.logs.find((l) => l.topics.length === 0 && l.address.toLowerCase() === address.toLowerCase())
  if (!log) throw new ChainError(`${label}: the transaction emitted no Predictions event`, { hint: `transaction ${tx.hash}` })
  const [payload] = decodeAbiParameters([{ type: 'bytes' }], log.data)
  const outputs = unpackOutputs(plan, payload)
  if (outputs.length !== rows.length) throw new ChainError(`${label}: ${outputs.length} outputs for ${rows.length} rows`)
  const { logs: _logs, ...record } = tx
  return { tx: record, rows: rows.length, outputs }
}

/**
 * One row through `predict`: the outputs from a call, and its all-in gas from a real transaction's receipt
 * (`tx`, the default) or from eth_estimateGas (`tx: false`: nothing sent, for a chain that costs money).
 */
export async function predictSingle(s: ChainSession, address: Hex, abi: Abi, plan: Plan, row: bigint[], opts: { tx?: boolean } = {}): Promise<{ tx: GasRecord; outputs: bigint[] }> {
  const data = encodeFunctionData({ abi, functionName: 'predict', args: [packRowWords(plan, row)] })
  const { data: ret } = await s.publicClient.call({ account: s.account, to: address, data })
  const [outputs] = decodeAbiParameters([{ type: 'int256[]' }], ret!)
  if (opts.tx === false) return { tx: { label: 'predict (one row)', hash: null, gasUsed: await estimateOf(s, 'predict (one row)', { to: address, data }, abi) }, outputs: [...outputs] }
  const { logs: _logs, ...tx } = await sendStateless(s, 'predict (one row)', { to: address, data }, abi)
  return { tx, outputs: [...outputs] }
}

/** A batch's gas as fixed + perRow·rows. */
export type BatchGas = { fixed: number; perRow: number }

/**
 * A predictBatch transaction's gas limit from the measured line (measureBatchGas): 20% and 50,000 above
 * it, under `cap`. It spares eth_estimateGas, which runs the whole batch again (several times, as nodes
 * search for the limit) before each send; rows differ only in their calldata, so the margin holds, and a
 * batch that still ran out is sent again with an estimate.
 */
export function batchGasLimit(m: BatchGas, rows: number, cap: number): bigint {
  return BigInt(Math.min(cap, Math.ceil((m.fixed + m.perRow * rows) * 1.2) + 50_000))
}

/** Gas of a batch as fixed + perRow·rows, measured with eth_estimateGas on 1 and 2 rows. */
export async function measureBatchGas(s: ChainSession, address: Hex, abi: Abi, plan: Plan, sample: bigint[][]): Promise<BatchGas> {
  const est = async (rows: bigint[][]) =>
    Number(await s.publicClient.estimateGas({ account: s.account, to: address, data: encodeFunctionData({ abi, functionName: 'predictBatch', args: [packRows(plan, rows)] }) }))
  const one = await est(sample.slice(0, 1))
  const two = await est([sample[0]!, sample[1] ?? sample[0]!])
  const perRow = Math.max(two - one, 1)
  return { fixed: one - perRow, perRow }
}

/** Answer a batch through eth_call: no transaction, nothing spent, the chain unchanged; the same outputs as predictBatchTx. */
export async function predictBatchCall(s: ChainSession, address: Hex, abi: Abi, plan: Plan, rows: bigint[][]): Promise<bigint[][]> {
  const data = encodeFunctionData({ abi, functionName: 'predictBatch', args: [packRows(plan, rows)] })
  const { data: ret } = await s.publicClient.call({ account: s.account.address, to: address, data })
  if (!ret) throw new ChainError(`predictBatch at ${address} returned nothing`, { hint: 'is this an ml2sc model contract? run `ml2sc verify`' })
  const [payload] = decodeAbiParameters([{ type: 'bytes' }], ret)
  const outputs = unpackOutputs(plan, payload)
  if (outputs.length !== rows.length) throw new ChainError(`predictBatch at ${address}: ${outputs.length} outputs for ${rows.length} rows`)
  return outputs
}

/**
 * What evaluating `rows` rows in batches of `batchRows` will spend on a deployed contract, from its own
 * gas (nothing sent): per batch the fixed part plus per row (`m`, measureBatchGas), and the one-row predict
 * transaction an evaluation also sends (eth_estimateGas on `row`). Rows differ only in their calldata
 * bytes, so this is the receipts' figure to within a few gas per row.
 */
export async function measuredEvaluationCost(s: ChainSession, address: Hex, abi: Abi, plan: Plan, m: BatchGas, row: bigint[], rows: number, batchRows: number): Promise<CostItem[]> {
  const batches = Math.ceil(rows / Math.max(1, batchRows))
  const single = await estimateOf(s, 'predict (one row)', { to: address, data: encodeFunctionData({ abi, functionName: 'predict', args: [packRowWords(plan, row)] }) }, abi)
  return [
    { label: 'evaluate', gas: BigInt(m.fixed * batches + m.perRow * rows), transactions: batches, exact: false },
    { label: 'predict (one row)', gas: BigInt(single), transactions: 1, exact: false },
  ]
}

import type { Abi, Hex } from 'viem'
import type { ChainSession } from './connectChain.ts'
import { ChainError } from '../errors/base.ts'
import { chainErrorFrom, revertDataError } from './txErrors.ts'

type Trace = { output?: string; error?: string; calls?: Trace[] }

/** Whether the call or one it made ran out of gas (a call that did leaves its caller only 1/64 of the gas). */
const ranOutOfGas = (t: Trace | undefined): boolean => !!t && (/out of gas/i.test(t.error ?? '') || (t.calls ?? []).some(ranOutOfGas))

/** The node's own trace of the mined transaction (debug_traceTransaction, callTracer), or undefined where it has none. */
async function traceOf(s: ChainSession, hash: Hex): Promise<Trace | undefined> {
  try {
    return (await s.publicClient.request({ method: 'debug_traceTransaction' as 'eth_chainId', params: [hash, { tracer: 'callTracer' }] as never })) as unknown as Trace
  } catch {
    return undefined
  }
}

/**
 * Why a mined transaction reverted, in one line. First from the node's trace of the transaction itself, in
 * its block, after whatever ran before it there (its revert data decoded with the contract's errors, or
 * "out of gas"); where the node keeps no traces, from a replay as a call at the block before. A replay that
 * succeeds does not blame the gas limit unless the transaction used all of it: then a transaction earlier
 * in the same block changed what it reads, and the error says so.
 */
export async function revertedTxError(s: ChainSession, label: string, tx: { hash: Hex; blockNumber: bigint; gasUsed: bigint; gas: bigint }, req: { to?: Hex; data: Hex; value?: bigint }, abi?: Abi): Promise<ChainError> {
  const trace = await traceOf(s, tx.hash)
  const decoded = typeof trace?.output === 'string' && revertDataError(trace.output, label, abi, ` (transaction ${tx.hash}, block ${tx.blockNumber})`)
  if (decoded) return decoded
  // without a trace: all of the gas, or all but the 1/64 that a call which ran out of gas leaves its caller
  const outOfGas = trace ? ranOutOfGas(trace) : 64n * tx.gasUsed >= 63n * tx.gas
  if (outOfGas) return new ChainError(`${label} ran out of gas (transaction ${tx.hash}: it used ${tx.gasUsed} of its ${tx.gas} gas)`, { hint: 'the gas limit was too low: lower batch.rows, or re-run (the estimate is made again)' })
  if (!trace) {
    try {
      await s.publicClient.call({ account: s.account, to: req.to, data: req.data, value: req.value, gas: tx.gas, blockNumber: tx.blockNumber - 1n })
    } catch (e) {
      return chainErrorFrom(e, label, abi)
    }
  }
  return new ChainError(`${label} reverted (transaction ${tx.hash}, block ${tx.blockNumber}, ${tx.gasUsed} of ${tx.gas} gas used)${trace?.error ? `: ${trace.error}` : ''}`, {
    hint: `it did not run out of gas${trace ? '' : `, and the same call succeeds at block ${tx.blockNumber - 1n}`}: a transaction before it in block ${tx.blockNumber} changed the state it reads (another sender, or an earlier transaction of this run); check the contract's state and re-run`,
  })
}

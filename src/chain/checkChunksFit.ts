import type { Abi } from 'viem'
import { ChainError } from '../errors/base.ts'
import type { ChainSession } from './connectChain.ts'
import { uploadGasFrom } from './uploadGas.ts'

/**
 * Before anything is spent: every upload transaction must fit under the session's per-transaction gas
 * (chain.txGasCap or, when smaller, the node's block gas limit). The chunk size is part of the contract's
 * code, so it cannot be changed after the deploy: a chunk over the cap is refused here, naming the
 * batch.upload that fits. The figures are estimateUploadGas's, all read from one uploadGasFrom (calibrated within a few percent, erring high).
 */
export function checkChunksFit(s: ChainSession, blob: Uint8Array, sizes: number[], abi: Abi, layout?: string, from = 0, opts: { deployed?: boolean } = {}): void {
  let worst = { index: -1, gas: 0n }
  const gasFrom = uploadGasFrom(blob, sizes, abi, { layout })
  let after = gasFrom(from)
  for (let i = from; i < sizes.length; i++) {
    const rest = i + 1 < sizes.length ? gasFrom(i + 1) : 0n
    const gas = after - rest
    if (gas > worst.gas) worst = { index: i, gas }
    after = rest
  }
  const cap = BigInt(s.txGasCap)
  if (worst.index < 0 || worst.gas <= cap) return
  const chunk = sizes[worst.index]!
  // gas grows about linearly with the chunk's bytes: scale it down, with room for the estimate's error
  const fits = Math.max(32, Math.floor((chunk * Number(cap) * 0.85) / Number(worst.gas) / 32) * 32)
  const limit = s.gasCapFrom === 'block gas limit' ? `the node's block gas limit of ${s.txGasCap.toLocaleString('en-US')}` : `the per-transaction cap of ${s.txGasCap.toLocaleString('en-US')} (chain.txGasCap)`
  const what = `upload chunk ${worst.index + 1}/${sizes.length} (${chunk.toLocaleString('en-US')} bytes) needs about ${worst.gas.toLocaleString('en-US')} gas, over ${limit}`
  // a deployed contract's chunk size is in its code: only a node (or cap) that fits it helps
  if (opts.deployed)
    throw new ChainError(what, { where: s.gasCapFrom === 'block gas limit' ? 'chain.rpcUrl' : 'chain.txGasCap', hint: "the deployed contract's chunk size cannot change: use a node with a higher block gas limit (or raise chain.txGasCap); nothing was spent" })
  throw new ChainError(what, {
    where: 'batch.upload',
    hint: `set batch.upload: ${fits} (bytes per upload transaction) so that every chunk fits; nothing was spent`,
  })
}

import { encodeFunctionData, toHex, type Abi, type Hex } from 'viem'
import type { ChainSession } from './connectChain.ts'
import { sendTx, type TxRecord } from './sendTx.ts'

export type UploadProgress = (done: number, total: number, gasSoFar: number) => void

/**
 * Write the weight blob chunk by chunk (one data contract per transaction, each well under the
 * per-transaction cap). `from` resumes after chunks already confirmed on chain.
 */
export async function uploadWeights(
  s: ChainSession,
  address: Hex,
  abi: Abi,
  blob: Uint8Array,
  chunkSizes: number[],
  opts: { from?: number; onChunk?: (index: number, tx: TxRecord) => void | Promise<void>; onProgress?: UploadProgress } = {},
): Promise<TxRecord[]> {
  const txs: TxRecord[] = []
  let at = chunkSizes.slice(0, opts.from ?? 0).reduce((a, b) => a + b, 0)
  let gas = 0
  for (let i = opts.from ?? 0; i < chunkSizes.length; i++) {
    const chunk = blob.subarray(at, at + chunkSizes[i]!)
    at += chunkSizes[i]!
    const data = encodeFunctionData({ abi, functionName: 'writeChunk', args: [BigInt(i), toHex(chunk)] })
    const tx = await sendTx(s, `upload chunk ${i + 1}/${chunkSizes.length}`, { to: address, data }, abi)
    txs.push(tx)
    gas += tx.gasUsed
    await opts.onChunk?.(i, tx)
    opts.onProgress?.(i + 1, chunkSizes.length, gas)
  }
  return txs
}

import { encodeFunctionData, toHex, type Abi, type Hex } from 'viem'
import { UPDATE_MARK } from '../codegen/admin/adminLibrary.ts'
import { commitmentOf } from '../codegen/weights/weightBlob.ts'
import type { CostItem } from './costItem.ts'

/** Calldata gas of a transaction's data: 16 per non-zero byte, 4 per zero byte. */
export function calldataGas(data: Hex): number {
  let g = 0
  for (let i = 2; i < data.length; i += 2) g += data[i] === '0' && data[i + 1] === '0' ? 4 : 16
  return g
}

/** What sizes the `writeChunk` transactions' gas: the layout, and whether the slots were written before. */
type UploadGasOptions = { layout?: string; rewrite?: boolean }

/**
 * Gas of each `writeChunk` transaction from chunk `from` on (0 before it), without estimateUploadGas's
 * margin: base and calldata (exact, from the bytes), CREATE of the data contract (32,000 + 200 per code
 * byte), the pointer and state slots, and on the last chunk the on-chain keccak256 of the whole blob read
 * back from every data contract. A chunk's gas does not depend on where the upload starts.
 */
function chunkGas(blob: Uint8Array, sizes: number[], abi: Abi | undefined, opts: UploadGasOptions, from: number): number[] {
  let at = 0
  const words = (n: number) => Math.ceil(n / 32)
  const target = abi ? commitmentOf(blob) : undefined
  return sizes.map((n, i) => {
    const chunk = blob.subarray(at, at + n)
    at += n
    if (i < from) return 0
    const data = abi
      ? encodeFunctionData({ abi, functionName: 'writeChunk', args: [BigInt(i), toHex(chunk), target!] })
      : (('0x' + '00'.repeat(132)) as Hex)
    const mem = 3 * words(n + 64) + Math.floor(words(n + 64) ** 2 / 512)
    // datacontract: CREATE + 200 per code byte, and past chunk 0 its address in a slot; storage: a slot per
    // 32 bytes, in place. `rewrite`: an update of slots an earlier upload wrote (5,000 each, not 22,100)
    const slot = opts.rewrite ? 5_000 : 22_100
    const storage = opts.layout === 'storage'
    const store = storage ? slot * words(n) : 32_000 + 200 * (n + 1)
    let gas = 21_000 + calldataGas(data) + store + 6 * words(n) + mem + 8_000 + (i > 0 && !storage ? slot : 5_000)
    if (i === sizes.length - 1) {
      const all = blob.length
      gas += sizes.length * 2_700 + 9 * words(all) + 3 * words(all) + Math.floor(words(all) ** 2 / 512) + 3_000
      // several data contracts: the last chunk also creates the table of their addresses (20 bytes each)
      if (!storage && sizes.length > 1) gas += 32_000 + 200 * (20 * sizes.length + 1) + 2_100 * sizes.length
    }
    return gas
  })
}

/** The upload's figure from a summed gas: 5% over the model (calibrated against receipts on anvil). */
const withMargin = (gas: number) => BigInt(Math.round(gas * 1.05))

/**
 * Gas of the `writeChunk` transactions (chunkGas), from the datacontract write path. Calibrated against
 * receipts on anvil (within a few percent).
 */
export function estimateUploadGas(blob: Uint8Array, sizes: number[], abi?: Abi, opts: UploadGasOptions & { from?: number; mark?: boolean } = {}): CostItem {
  const from = opts.from ?? 0
  const gas = chunkGas(blob, sizes, abi, opts, from).reduce((a, g) => a + g, 0)
  // the first update of a model with embedded weights carries the update mark (`mark`): 1 wei, said here (uploadWeights.ts)
  return { label: 'upload', gas: withMargin(gas), transactions: sizes.length - from, exact: false, ...(from === 0 && opts.mark ? { value: UPDATE_MARK } : {}) }
}

/**
 * estimateUploadGas(…, { from }).gas for every `from` (0 from the last chunk on), each chunk encoded and the
 * blob hashed once: the per-chunk figures (upload from k less upload from k + 1) of an upload of n chunks
 * then cost one pass over the blob, not n.
 */
export function uploadGasFrom(blob: Uint8Array, sizes: number[], abi?: Abi, opts: UploadGasOptions = {}): (from: number) => bigint {
  const gas = chunkGas(blob, sizes, abi, opts, 0)
  // integer sums (exact below 2^53), so the same as estimateUploadGas's sum from `from` up
  const suffix = new Array<number>(sizes.length + 1).fill(0)
  for (let i = sizes.length - 1; i >= 0; i--) suffix[i] = suffix[i + 1]! + gas[i]!
  return (from) => (from >= sizes.length ? 0n : withMargin(suffix[Math.max(0, from)]!))
}

import { getAddress, toHex, zeroAddress, type Hex } from 'viem'
import { stateMask, STORAGE_BASE } from '../codegen/admin/adminLibrary.ts'
import type { ChainSession } from './connectChain.ts'

/** A model's storage and balance as the chain holds them (eth_getStorageAt, eth_getBalance): no getter in between. */
export type RawModelState = { balance: bigint; owner: bigint; pendingOwner: bigint; state: bigint }

/** The state word's fields (after the XOR with the model's mask; adminLibrary.ts documents the word). */
export type StateFields = { address: Hex; version: number; tag: number; written: number; ready: number }

/** Where predict takes its weights from, once `predictReads` has checked the state word that decides it. */
export type WeightSource =
  | { from: 'code' } // the code layout: lane words in the code, no state read
  | { from: 'tail' } // the weights embedded at the code's tail (never updated)
  | { from: 'chunks'; chunks: Hex[]; table?: Hex } // data contracts, through the address table when there are several
  | { from: 'storage' } // packed slots from STORAGE_BASE

export type ReadsProblem = { check: 'state' | 'upload' | 'chunk'; line: string; hint: string }

const slot = (n: bigint | number) => toHex(BigInt(n), { size: 32 })
/** A 256-bit value as its full 32-byte word (no bit left out of a message). */
export const wordHex = (v: bigint) => toHex(v, { size: 32 })

export async function readRawState(s: ChainSession, address: Hex): Promise<RawModelState> {
  const [balance, owner, pendingOwner, state] = await Promise.all([
    s.publicClient.getBalance({ address }),
    ...[0, 1, 2].map(async (i) => BigInt((await s.publicClient.getStorageAt({ address, slot: slot(i) })) ?? 0)),
  ])
  return { balance: balance as bigint, owner: owner as bigint, pendingOwner: pendingOwner as bigint, state: state as bigint }
}

export function stateFields(word: bigint): StateFields {
  const bits = (at: bigint, n: bigint) => Number((word >> at) & ((1n << n) - 1n))
  return { address: getAddress(toHex(word & ((1n << 160n) - 1n), { size: 20 })), version: bits(160n, 32n), tag: bits(192n, 32n), written: bits(224n, 24n), ready: bits(248n, 8n) }
}

/** The raw 32-byte storage words [STORAGE_BASE, STORAGE_BASE + words) (the storage layout's weights), read in parallel batches. */
export async function readWeightSlots(s: ChainSession, address: Hex, words: number): Promise<bigint[]> {
  const out: bigint[] = []
  for (let w = 0; w < words; w += 128) {
    const batch = Array.from({ length: Math.min(128, words - w) }, (_, k) => s.publicClient.getStorageAt({ address, slot: slot(STORAGE_BASE + w + k) }))
    for (const v of await Promise.all(batch)) out.push(BigInt(v ?? 0))
  }
  return out
}

type Layout = { layout: 'datacontract' | 'code' | 'storage'; embedded: boolean; chunks: number }

/**
 * Which weights predict reads, decided from the raw balance and state word exactly as the model's code decides
 * (generateSolidity.ts): the code layout reads no state; a model with embedded weights and a balance of 0 reads
 * none either (the update mark) and answers from its code's tail; otherwise the state word (slot 2, XOR the
 * mask) must say "ready, every chunk written" and name the data contract (one chunk) or the address table
 * (several: its code must be STOP ++ 20 bytes per chunk). Every state word a genuine model can be in is
 * accepted; any other (a constructor's, say) is refused, so that the getters and predict cannot disagree.
 */
export async function predictReads(s: ChainSession, address: Hex, m: Layout, raw: RawModelState): Promise<{ problem?: ReadsProblem; source?: WeightSource; fields?: StateFields }> {
  const word = wordHex(raw.state)
  const state = (line: string, hint = 'a genuine ml2sc model is never in this state: its storage was written by something else than its admin library (a forged creation code, say)') => ({ problem: { check: 'state' as const, line, hint } })
  if (m.layout === 'code') return raw.state ? state(`state word (slot 2) is ${word}: a code-layout model never writes it (its weights are its code)`) : { source: { from: 'code' } }
  if (m.embedded && raw.balance === 0n)
    return raw.state
      ? state(`state word (slot 2) is ${word} while the balance is 0: predict then ignores it and answers from the weights at the code's tail, which the getters do not describe`, 'a genuine model writes its state word only in an update, whose first chunk brings the 1-wei update mark: this one was preset by its creation code')
      : { source: { from: 'tail' } }
  const fields = stateFields(raw.state ^ stateMask({ kind: m.layout === 'storage' ? 2 : 0, embedded: m.embedded, chunks: m.chunks }))
  if (fields.ready > 1) return state(`state word (slot 2) is ${word}: its ready byte is ${fields.ready}, neither 0 nor 1`)
  if (fields.ready === 0)
    return { fields, problem: { check: 'upload', line: `upload incomplete: ${fields.written} of ${m.chunks} chunk(s) written to ${address}; it refuses inference until the upload completes`, hint: 'the owner finishes it with `ml2sc upload` or `ml2sc update`' } }
  if (fields.written !== m.chunks) return state(`state word (slot 2) is ${word}: ready, with ${fields.written} of ${m.chunks} chunk(s) written`)
  if (m.layout === 'storage') return fields.address === zeroAddress ? { fields, source: { from: 'storage' } } : state(`state word (slot 2) is ${word}: a storage-layout model names no data contract there`)
  if (fields.address === zeroAddress)
    return m.embedded && !raw.state ? { fields, source: { from: 'tail' } } : state(`state word (slot 2) is ${word}: ready, but it names no data contract`)
  if (m.chunks === 1) return { fields, source: { from: 'chunks', chunks: [fields.address] } }
  // several chunks: predict reads their addresses from the table, 20 bytes each after its STOP byte
  const code = (await s.publicClient.getCode({ address: fields.address })) ?? '0x'
  if (code.length !== 4 + 40 * m.chunks || !code.startsWith('0x00'))
    return { fields, problem: { check: 'chunk', line: `the address table at ${fields.address} is not STOP ++ ${m.chunks} chunk addresses (its code is ${(code.length - 2) / 2} bytes)`, hint: 'predict reads the data contracts\' addresses from that table: it must be a plain ml2sc data contract, which can never run or change' } }
  const chunks = Array.from({ length: m.chunks }, (_, i) => getAddress(`0x${code.slice(4 + 40 * i, 44 + 40 * i)}`))
  return { fields, source: { from: 'chunks', chunks, table: fields.address } }
}

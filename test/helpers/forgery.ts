// What a forger deploys with plain transactions: creation code that writes storage (SSTORE) and then
// RETURNs runtime code of its choice (the genuine one, or with a changed tail or immutables), data
// contracts (STOP ++ bytes) and address tables; and the raw state word (slot 2) the admin library reads.
import { concat, encodeFunctionData, toHex, type Abi, type Hex } from 'viem'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { sendTx } from '../../src/chain/sendTx.ts'
import { packRowWords } from '../../src/fixed/encodeRows.ts'
import type { Plan } from '../../src/fixed/types.ts'

const word = (v: bigint) => toHex(BigInt.asUintN(256, v), { size: 32 }).slice(2)

/**
 * Creation code: `PUSH32 value PUSH32 slot SSTORE` for each write, then `PUSH2 len DUP1 PUSH2 at PUSH1 0
 * CODECOPY PUSH1 0 RETURN` with `runtime` appended. It has no CALLVALUE check: the creation may carry wei.
 */
export function creationCode(runtime: Hex | Uint8Array, writes: { slot: bigint; value: bigint }[] = []): Hex {
  const body = typeof runtime === 'string' ? runtime.slice(2) : Buffer.from(runtime).toString('hex')
  const len = body.length / 2
  if (len > 0xffff) throw new Error('runtime too long for this helper')
  const stores = writes.map((w) => `7f${word(w.value)}7f${word(w.slot)}55`).join('')
  const at = stores.length / 2 + 13
  return `0x${stores}61${len.toString(16).padStart(4, '0')}8061${at.toString(16).padStart(4, '0')}60003960` + `00f3${body}` as Hex
}

/** Deploy creation code from the session's account (with `value` wei); the new contract's address. */
export async function deployRaw(s: ChainSession, data: Hex, value = 0n): Promise<Hex> {
  const tx = await sendTx(s, 'forged deploy', { data, ...(value ? { value } : {}) })
  if (!tx.contractAddress) throw new Error('no contract created')
  return tx.contractAddress
}

/** A data contract as the admin library writes one: code = STOP ++ bytes. */
export const dataContract = (s: ChainSession, bytes: Uint8Array) => deployRaw(s, creationCode(concat([new Uint8Array([0]), bytes])))

/** An address table: STOP ++ the addresses, 20 bytes each. */
export const addressTable = (s: ChainSession, addresses: Hex[]) => dataContract(s, Buffer.from(addresses.map((a) => a.slice(2)).join(''), 'hex'))

/** The state word (before the XOR with the model's state mask) with these fields. */
export function stateWord(f: { address?: Hex; version?: number; tag?: number; written?: number; ready?: number }): bigint {
  return BigInt(f.address ?? 0) | (BigInt(f.version ?? 0) << 160n) | (BigInt(f.tag ?? 0) << 192n) | (BigInt(f.written ?? 0) << 224n) | (BigInt(f.ready ?? 0) << 248n)
}

/** `code` with every immutable range set to the 32-byte word `value`. */
export function withImmutables(code: Hex, immutables: readonly { start: number; length: number }[], value: bigint): Hex {
  const b = Buffer.from(code.slice(2), 'hex')
  for (const r of immutables) Buffer.from(word(value), 'hex').subarray(32 - r.length).copy(b, r.start)
  return toHex(b)
}

/** `code` with its last `tail.length` bytes replaced (the embedded weights). */
export function withTail(code: Hex, tail: Uint8Array): Hex {
  const b = Buffer.from(code.slice(2), 'hex')
  b.set(tail, b.length - tail.length)
  return toHex(b)
}

/** The same plan with every weight negated: other weights of the same shape, scales and widths. */
export const negated = (plan: Plan): Plan => ({ ...plan, layers: plan.layers.map((l) => ({ ...l, weights: l.weights.map((r) => r.map((w) => -w)) })) })

/** predict(row) by eth_call: the outputs, or undefined when it reverts. */
export async function predictOf(s: ChainSession, address: Hex, abi: Abi, plan: Plan, row: bigint[]): Promise<bigint[] | undefined> {
  const data = encodeFunctionData({ abi, functionName: 'predict', args: [packRowWords(plan, row)] })
  try {
    const { data: ret } = await s.publicClient.call({ to: address, data })
    if (!ret || ret.length < 2 + 128) return undefined
    const n = Number(BigInt('0x' + ret.slice(66, 130)))
    return Array.from({ length: n }, (_, j) => BigInt.asIntN(256, BigInt('0x' + ret.slice(130 + 64 * j, 194 + 64 * j))))
  } catch {
    return undefined
  }
}

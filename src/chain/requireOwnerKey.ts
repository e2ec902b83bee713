import type { Hex } from 'viem'
import { ChainError } from '../errors/base.ts'
import type { ChainSession } from './connectChain.ts'

/**
 * Refuse, before anything is spent, to send owner-only transactions (weight uploads) from an account that
 * is not the model's owner: they would only revert NotOwner. `owner` is the chain's `owner()`, or
 * `chain.owner` before the model exists. An owner with code (a Safe, a multisig) cannot be signed for with
 * one key: the hint says so.
 */
export async function requireOwnerKey(s: ChainSession, owner: Hex, what: string): Promise<void> {
  if (owner.toLowerCase() === s.account.address.toLowerCase()) return
  const code = await s.publicClient.getCode({ address: owner }).catch(() => undefined)
  const isContract = Boolean(code && code !== '0x')
  throw new ChainError(`${what} must be sent by the model's owner ${owner}, but the signing account is ${s.account.address}`, {
    where: s.kind === 'rpc' ? 'ML2SC_PRIVATE_KEY' : 'chain.owner',
    hint: isContract
      ? "the owner is a contract (a Safe?): ml2sc signs with one key; have the owner contract send the writeChunk transactions, or transfer the ownership to a key's account"
      : s.kind === 'rpc'
        ? "set ML2SC_PRIVATE_KEY to the owner's key for `ml2sc upload` / `ml2sc update` (the model can be deployed by anyone: `ml2sc deploy`, a CREATE2 factory or a Safe)"
        : 'the embedded anvil signs with its first account: remove chain.owner, or use your own node (chain.rpcUrl) and the owner key',
  })
}

import type { ChainSession } from './connectChain.ts'

/** The public-client reads that take a block: every one `verify` makes. */
const READS = new Set(['getCode', 'getStorageAt', 'getBalance', 'readContract', 'call'])

/**
 * The same session with every state read pinned to one block: a check made of many calls then sees one
 * state, so no transaction mined between two of its reads (a forger's swap of a data contract or of the
 * storage word that says where predict reads) can make it combine answers from two states. A read that
 * names its own block keeps it.
 */
export function pinnedSession(s: ChainSession, blockNumber: bigint): ChainSession {
  const publicClient = new Proxy(s.publicClient, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver)
      if (typeof key !== 'string' || !READS.has(key) || typeof value !== 'function') return value
      return (args: Record<string, unknown>) => value.call(target, args.blockTag === undefined && args.blockNumber === undefined ? { ...args, blockNumber } : args)
    },
  })
  return { ...s, publicClient }
}

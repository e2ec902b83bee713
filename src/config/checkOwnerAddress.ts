import type { Problem } from './problem.ts'

// viem (~0.3 s of CPU to load) only for a mixed-case owner: loading the config of a command that never
// touches a chain (generate, inspect, the tests of config and model) does not pay for it
const isChecksummed = (owner: string) => (require('viem') as typeof import('viem')).isAddress(owner, { strict: true })

/**
 * `chain.owner` is written into the model's creation code: a mistyped address makes a model nobody can
 * upload to or update, for good. A mixed-case address carries an EIP-55 checksum, so check it (all-lower
 * or all-upper case has none to check).
 */
export function checkOwnerAddress(data: unknown): Problem[] {
  const owner = (data as { chain?: { owner?: unknown } })?.chain?.owner
  if (typeof owner !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(owner)) return []
  const body = owner.slice(2)
  if (body === body.toLowerCase() || body === body.toUpperCase() || isChecksummed(owner)) return []
  return [{ path: 'chain.owner', segments: ['chain', 'owner'], message: `${owner} fails its EIP-55 checksum (a mistyped character?): copy the address again, or write it in lower case` }]
}

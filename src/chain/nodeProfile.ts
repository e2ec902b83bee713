import type { Hex, PublicClient } from 'viem'
import { ChainError } from '../errors/base.ts'
import { isTransient } from './isTransient.ts'

/** What a node says about itself, read once when ml2sc connects (before anything is spent). */
export type NodeProfile = {
  /** web3_clientVersion, e.g. "anvil/v1.7.1" or "HardhatNetwork/2.29.1/@nomicfoundation/edr/0.3.8" (null if the node does not say). */
  client: string | null
  /** Gas limit of the latest block: no transaction can use more, whatever chain.txGasCap says. */
  blockGasLimit: number
  /** Whether the node's EVM runs PUSH0 (Shanghai and later), which solc emits for evmVersion shanghai+. */
  push0: boolean
}

/** Creation code PUSH0 PUSH0 RETURN: deploys nothing, and only runs on an EVM that knows PUSH0. */
const PUSH0_PROBE: Hex = '0x5f5ff3'

/** The hardforks whose code uses PUSH0 (EIP-3855, Shanghai). */
export const PUSH0_FORKS = ['shanghai', 'cancun', 'prague', 'osaka']

export async function readNodeProfile(client: PublicClient): Promise<NodeProfile> {
  const [version, block, push0] = await Promise.all([
    client.request({ method: 'web3_clientVersion' as never }).then(
      (v) => (typeof v === 'string' && v ? v : null),
      () => null,
    ),
    client.getBlock({ blockTag: 'latest' }),
    client.call({ data: PUSH0_PROBE }).then(
      () => true,
      (e: unknown) => {
        if (isTransient(e)) throw e
        return false
      },
    ),
  ])
  return { client: version, blockGasLimit: Number(block.gasLimit), push0 }
}

/** The code ml2sc compiles for `hardfork` needs PUSH0: refuse, before anything is spent, a node without it. */
export function checkNodeRunsHardfork(node: NodeProfile, hardfork: string, where: string): void {
  if (node.push0 || !PUSH0_FORKS.includes(hardfork)) return
  throw new ChainError(`the node at ${where} has no PUSH0 (its EVM predates Shanghai), which code compiled for chain.hardfork ${hardfork} uses`, {
    where: 'chain.hardfork',
    hint: "set chain.hardfork to the node's fork (paris, london or berlin: no PUSH0), or use a node at Shanghai or later",
  })
}

/** "anvil/v1.7.1, block gas limit 30,000,000, PUSH0 yes" */
export function describeNode(node: NodeProfile): string {
  return `${node.client ?? 'node (no web3_clientVersion)'}, block gas limit ${node.blockGasLimit.toLocaleString('en-US')}, PUSH0 ${node.push0 ? 'yes' : 'no'}`
}

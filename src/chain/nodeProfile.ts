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
  /**
   * The newest hardfork the node's EVM shows, from probes that cost nothing (eth_call): 'paris' (or older:
   * no PUSH0), 'shanghai' (PUSH0), 'cancun' (TLOAD), 'prague' (the BLS12-381 precompile at 0x0b), 'osaka' (CLZ).
   */
  evm: NodeEvm
}

export type NodeEvm = 'paris' | 'shanghai' | 'cancun' | 'prague' | 'osaka'


/** Creation code PUSH0 PUSH0 RETURN: deploys nothing, and only runs on an EVM that knows PUSH0. */
const PUSH0_PROBE: Hex = '0x5f5ff3'

/** The hardforks whose code uses PUSH0 (EIP-3855, Shanghai). */
export const PUSH0_FORKS = ['shanghai', 'cancun', 'prague', 'osaka']

/** Creation code PUSH1 0 TLOAD STOP (Cancun, EIP-1153) and PUSH1 1 CLZ STOP (Osaka, EIP-7939). */
const TLOAD_PROBE: Hex = '0x60005c00'
const CLZ_PROBE: Hex = '0x60011e00'
/** G1ADD (EIP-2537, Prague) of two points at infinity: 128 zero bytes back on Prague, nothing before (no code there). */
const BLS_G1ADD = '0x000000000000000000000000000000000000000b' as const

/** True when the call runs, false when the EVM refuses it (a transient transport failure is thrown). */
const runs = (p: Promise<{ data?: Hex }>, check: (data?: Hex) => boolean = () => true) =>
  p.then(
    (r) => check(r.data),
    (e: unknown) => {
      if (isTransient(e)) throw e
      return false
    },
  )

export async function readNodeProfile(client: PublicClient): Promise<NodeProfile> {
  const [version, block, push0, tload, bls, clz] = await Promise.all([
    client.request({ method: 'web3_clientVersion' as never }).then(
      (v) => (typeof v === 'string' && v ? v : null),
      () => null,
    ),
    client.getBlock({ blockTag: 'latest' }),
    runs(client.call({ data: PUSH0_PROBE })),
    runs(client.call({ data: TLOAD_PROBE })),
    runs(client.call({ to: BLS_G1ADD, data: `0x${'00'.repeat(256)}` }), (d) => (d?.length ?? 0) === 2 + 256),
    runs(client.call({ data: CLZ_PROBE })),
  ])
  const evm: NodeEvm = !push0 ? 'paris' : clz ? 'osaka' : bls ? 'prague' : tload ? 'cancun' : 'shanghai'
  return { client: version, blockGasLimit: Number(block.gasLimit), push0, evm }
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

/** What changes, for ml2sc's contracts and figures, at each fork a node and chain.hardfork may differ by. */
const FORK_CHANGES: { fork: NodeEvm; older: (configured: string) => string | undefined; newer: (configured: string) => string | undefined }[] = [
  {
    fork: 'cancun',
    // solc may emit MCOPY for evmVersion cancun and later; ml2sc's own Yul uses neither MCOPY nor transient storage
    older: (hf) => `no MCOPY or transient storage (Cancun), which solc may use in code compiled for ${hf}: a contract that does would revert here`,
    newer: () => undefined,
  },
  {
    fork: 'prague',
    older: () => 'no EIP-7623 calldata floor (Prague): calldata-heavy transactions (weight uploads, predict batches) cost less here than they would on a prague chain',
    newer: (hf) => `the EIP-7623 calldata floor (Prague) applies here: calldata-heavy transactions (weight uploads, predict batches) may cost more than on a ${hf} chain`,
  },
  {
    fork: 'osaka',
    // the EIP-7825 cap is respected on every chain (chain.txGasCap), so only CLZ is a difference
    older: (hf) => `no CLZ (Osaka), which solc may use in code compiled for ${hf}: a contract that does would revert here`,
    newer: () => undefined,
  },
]
const ORDER: string[] = ['berlin', 'london', 'paris', 'shanghai', 'cancun', 'prague', 'osaka']

/**
 * What differs for ml2sc between the EVM the node runs and chain.hardfork, in one sentence, or undefined
 * when nothing does (a node older than Shanghai is refused by checkNodeRunsHardfork instead).
 */
export function hardforkDifference(node: NodeEvm, hardfork: string): string | undefined {
  const n = ORDER.indexOf(node)
  const c = ORDER.indexOf(hardfork)
  // 'paris' stands for any pre-Shanghai EVM, which the probes do not tell apart
  if (n < 0 || c < 0 || n === c || node === 'paris') return undefined
  const between = FORK_CHANGES.filter((f) => ORDER.indexOf(f.fork) > Math.min(n, c) && ORDER.indexOf(f.fork) <= Math.max(n, c))
  const what = between.map((f) => (n < c ? f.older(hardfork) : f.newer(hardfork))).filter((w): w is string => w !== undefined)
  if (!what.length) return undefined
  return `the node runs ${node}, chain.hardfork is ${hardfork}: ${what.join('; ')} (set chain.hardfork: ${node} to match the node, or start the node with --hardfork ${hardfork})`
}

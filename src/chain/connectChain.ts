import { TX_GAS_CAP } from './limits.ts'
import { createPublicClient, createWalletClient, custom, defineChain, zeroAddress, type Hex, type PublicClient, type WalletClient, type Account, type Chain } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import type { Config } from '../config/types.ts'
import { ChainError } from '../errors/base.ts'
import { startAnvil, type AnvilHandle } from './startAnvil.ts'
import { checkNodeRunsHardfork, readNodeProfile, type NodeProfile } from './nodeProfile.ts'
import { retryOptionsFrom, rpcTransport } from './rpcTransport.ts'

/**
 * The key of anvil's first development account (from its default mnemonic; anvil prints it at startup).
 * Deriving it from the mnemonic costs ~200 ms of PBKDF2, so it is written here and checked against the
 * node's first account before use.
 */
const ANVIL_DEV_KEY_0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'


export type ChainSession = {
  publicClient: PublicClient
  walletClient: WalletClient
  account: Account
  chain: Chain
  chainId: number
  rpcUrl: string
  /** True when ml2sc started this chain itself (nothing real is spent; a fork included). */
  local: boolean
  /**
   * Nothing real is spent: a chain ml2sc started, or a development node on this machine (a loopback
   * chain.rpcUrl whose chain id is 31337 or 1337: anvil's, Hardhat's and ganache's defaults). No --yes.
   */
  free: boolean
  /** 'embedded' (anvil of our own), 'fork' (our anvil forking chain.fork) or 'rpc' (chain.rpcUrl). */
  kind: 'embedded' | 'fork' | 'rpc'
  /** Per-transaction gas to stay under: the smaller of chain.txGasCap and the node's block gas limit. */
  txGasCap: number
  /** Which of the two sets txGasCap (for error messages that name the right cause). */
  gasCapFrom: 'chain.txGasCap' | 'block gas limit'
  /** What the node said about itself at connection: client version, block gas limit, PUSH0. */
  node: NodeProfile
  anvil?: AnvilHandle
  /** Requests the HTTP layer has retried so far (429, 5xx, timeouts): how concurrent evaluation learns the node is overloaded. */
  rpcRetries?: () => number
  close: () => Promise<void>
}

/**
 * `stateFile` (embedded anvil only): load the chain from that file if it exists and dump it there on close.
 * `readOnly`: no signing key is read (none is needed) and the wallet client refuses every request, so
 * nothing can be sent (`verify`).
 */
export async function connectChain(chainCfg: Config['chain'] & { stateFile?: string; readOnly?: boolean }, env = process.env): Promise<ChainSession> {
  let anvil: AnvilHandle | undefined
  let rpcUrl = chainCfg.rpcUrl
  if (!rpcUrl) {
    // a fork keeps the forked chain's id, so that chain.chainId checks the endpoint it forks
    anvil = await startAnvil({ hardfork: chainCfg.hardfork, blockGasLimit: chainCfg.blockGasLimit, fork: chainCfg.fork, chainId: chainCfg.fork ? undefined : chainCfg.chainId, stateFile: chainCfg.stateFile })
    rpcUrl = anvil.rpcUrl
  }
  try {
    let retried = 0
    const retry = { ...retryOptionsFrom(env), onRetry: () => void retried++ }
    // a short leash for the first contact: a wrong URL should fail in seconds, not after every backoff
    const probe = createPublicClient({ transport: rpcTransport(rpcUrl, { ...retry, retries: Math.min(retry.retries, 2), timeoutMs: Math.min(retry.timeoutMs, 10_000) }) })
    let chainId: number
    try {
      chainId = await probe.getChainId()
    } catch (e) {
      const key = chainCfg.fork && anvil ? 'chain.fork' : 'chain.rpcUrl'
      throw new ChainError(`cannot reach the RPC at ${redactUrl(rpcUrl)}`, { where: key, hint: 'check the URL and that the node is running', cause: e })
    }
    if (chainCfg.chainId !== undefined && chainCfg.chainId !== chainId)
      throw new ChainError(`the RPC reports chain id ${chainId}, but the config expects ${chainCfg.chainId}`, { where: 'chain.chainId', hint: 'point chain.rpcUrl at the right network or fix chain.chainId' })
    const chain = defineChain({
      id: chainId,
      name: anvil ? 'anvil (embedded)' : `chain ${chainId}`,
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [rpcUrl] } },
    })
    let account: Account
    const transport = rpcTransport(rpcUrl, retry)
    if (chainCfg.readOnly) {
      account = { address: zeroAddress, type: 'json-rpc' } as Account
    } else if (anvil) {
      // an anvil ml2sc started itself: its first development account, signed here like any other key so
      // that every chain takes the same path (anvil signing for us is the fallback)
      const [address] = await createWalletClient({ transport }).getAddresses()
      const dev = privateKeyToAccount(ANVIL_DEV_KEY_0)
      account = address && dev.address.toLowerCase() === address.toLowerCase() ? dev : ({ address: address as Hex, type: 'json-rpc' } as Account)
    } else {
      const key = env.ML2SC_PRIVATE_KEY as Hex | undefined
      if (!key) throw new ChainError('no signing key for a non-embedded chain', { where: 'ML2SC_PRIVATE_KEY', hint: 'export ML2SC_PRIVATE_KEY=0x… (keys never go in the config file)' })
      try {
        account = privateKeyToAccount(key.startsWith('0x') ? key : (`0x${key}` as Hex))
      } catch (e) {
        throw new ChainError('ML2SC_PRIVATE_KEY is not a valid private key', { where: 'ML2SC_PRIVATE_KEY', hint: 'it must be 32 bytes of hex', cause: e })
      }
    }
    const publicClient = createPublicClient({ chain, transport, pollingInterval: 250 }) as PublicClient
    // the node's own limits and EVM, before anything is planned or spent
    const node = await readNodeProfile(publicClient)
    checkNodeRunsHardfork(node, chainCfg.hardfork, redactUrl(rpcUrl))
    const configCap = chainCfg.txGasCap ?? TX_GAS_CAP
    const walletClient = chainCfg.readOnly ? createWalletClient({ chain, account, transport: custom({ request: refuseToSign }) }) : createWalletClient({ chain, transport, account })
    return {
      publicClient,
      walletClient,
      account,
      chain,
      chainId,
      rpcUrl,
      local: Boolean(anvil),
      free: Boolean(anvil) || isLocalDevChain(rpcUrl, chainId),
      kind: anvil ? (chainCfg.fork ? 'fork' : 'embedded') : 'rpc',
      txGasCap: Math.min(configCap, node.blockGasLimit),
      gasCapFrom: node.blockGasLimit < configCap ? 'block gas limit' : 'chain.txGasCap',
      node,
      anvil,
      rpcRetries: () => retried,
      close: async () => {
        await anvil?.stop()
      },
    }
  } catch (e) {
    await anvil?.stop()
    throw e
  }
}

async function refuseToSign({ method }: { method: string }): Promise<never> {
  throw new ChainError(`${method}: this command only reads the chain`, { hint: 'this is a bug in ml2sc: a read-only command tried to send a transaction' })
}

/** Chain ids that development nodes use by default (anvil and Hardhat 31337, ganache 1337). */
export const DEV_CHAIN_IDS = [31_337, 1_337]

/** A node on this machine (loopback address) with a development chain id: no real money there. */
export function isLocalDevChain(rpcUrl: string, chainId: number): boolean {
  if (!DEV_CHAIN_IDS.includes(chainId)) return false
  try {
    const host = new URL(rpcUrl).hostname.replace(/^\[|\]$/g, '')
    return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
  } catch {
    return false
  }
}

/** An RPC URL for messages: providers put API keys in the path or query, so keep only scheme and host. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    const hidden = (u.pathname && u.pathname !== '/') || u.search || u.username ? '/…' : ''
    return `${u.protocol}//${u.host}${hidden}`
  } catch {
    return 'the configured URL'
  }
}

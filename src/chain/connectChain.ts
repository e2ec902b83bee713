import { createPublicClient, createWalletClient, defineChain, http, type Hex, type PublicClient, type WalletClient, type Account, type Chain } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import type { Config } from '../config/types.ts'
import { ChainError } from '../errors/base.ts'
import { startAnvil, type AnvilHandle } from './startAnvil.ts'


export type ChainSession = {
  publicClient: PublicClient
  walletClient: WalletClient
  account: Account
  chain: Chain
  chainId: number
  rpcUrl: string
  /** True when ml2sc started this chain itself (nothing real is spent). */
  local: boolean
  anvil?: AnvilHandle
  close: () => Promise<void>
}

export async function connectChain(chainCfg: Config['chain'], env = process.env): Promise<ChainSession> {
  let anvil: AnvilHandle | undefined
  let rpcUrl = chainCfg.rpcUrl
  if (!rpcUrl) {
    anvil = await startAnvil({ hardfork: chainCfg.hardfork, blockGasLimit: chainCfg.blockGasLimit, fork: chainCfg.fork, chainId: chainCfg.chainId })
    rpcUrl = anvil.rpcUrl
  }
  try {
    const probe = createPublicClient({ transport: http(rpcUrl, { retryCount: 2, timeout: 15_000 }) })
    let chainId: number
    try {
      chainId = await probe.getChainId()
    } catch (e) {
      throw new ChainError(`cannot reach the RPC at ${rpcUrl}`, { where: 'chain.rpcUrl', hint: 'check the URL and that the node is running', cause: e })
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
    if (anvil) {
      // an anvil ml2sc started itself: use its first unlocked development account (anvil signs)
      const [address] = await createWalletClient({ transport: http(rpcUrl) }).getAddresses()
      account = { address: address as Hex, type: 'json-rpc' } as Account
    } else {
      const key = env.ML2SC_PRIVATE_KEY as Hex | undefined
      if (!key) throw new ChainError('no signing key for a non-embedded chain', { where: 'ML2SC_PRIVATE_KEY', hint: 'export ML2SC_PRIVATE_KEY=0x… (keys never go in the config file)' })
      try {
        account = privateKeyToAccount(key.startsWith('0x') ? key : (`0x${key}` as Hex))
      } catch (e) {
        throw new ChainError('ML2SC_PRIVATE_KEY is not a valid private key', { where: 'ML2SC_PRIVATE_KEY', hint: 'it must be 32 bytes of hex', cause: e })
      }
    }
    const transport = http(rpcUrl, { retryCount: 3, retryDelay: 250, timeout: 60_000 })
    const publicClient = createPublicClient({ chain, transport }) as PublicClient
    const walletClient = createWalletClient({ chain, transport, account })
    return {
      publicClient,
      walletClient,
      account,
      chain,
      chainId,
      rpcUrl,
      local: Boolean(anvil),
      anvil,
      close: async () => {
        await anvil?.stop()
      },
    }
  } catch (e) {
    await anvil?.stop()
    throw e
  }
}


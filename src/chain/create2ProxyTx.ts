import type { Hex } from 'viem'
import { CREATE2_FACTORY } from '../codegen/admin/adminLibrary.ts'
import { ChainError } from '../errors/base.ts'
import type { ChainSession } from './connectChain.ts'

/**
 * The deterministic deployment proxy (Arachnid's CREATE2 factory at 0x4e59…956c), put on a chain that lacks
 * it (Hardhat's node, ganache, anvil --disable-default-create2-deployer) by its public presigned
 * transaction. That transaction is signed without a chain id (pre-EIP-155) by a one-time key nobody holds,
 * so it is valid on every chain and its contract lands at the same address everywhere: the address ml2sc's
 * models call their shared admin library through. Anyone may broadcast it once its signer holds the gas.
 *
 * Data, not code: the raw transaction and its parameters are copied verbatim from
 * github.com/Arachnid/deterministic-deployment-proxy, README.md ("Deployment Transaction", "Deployment
 * Signer Address", gas price 100 gwei, gas limit 100,000), commit b3bb19c5aa8af6d9424fd66a234116a1e8adc3bf.
 * test/chain/create2-proxy.test.ts recovers the signer from the signature and the contract address from it.
 *
 * Where a node refuses pre-EIP-155 transactions (geth without --rpc.allow-unprotected-txs, most public RPC
 * providers), nothing ml2sc can sign puts code at that address. Decision: stop there, before anything is
 * spent, with a one-line error saying how to enable it. A fallback that passes the library's address to
 * each model as an immutable was weighed and left out: the proxy is already on nearly every public EVM
 * chain (deployed there since 2019), and the development nodes that lack it all accept the presigned
 * transaction; a per-chain library address would make a model's identity depend on where it was deployed.
 */
export const PROXY_DEPLOY_TX: Hex =
  '0xf8a58085174876e800830186a08080b853604580600e600039806000f350fe7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf31ba02222222222222222222222222222222222222222222222222222222222222222a02222222222222222222222222222222222222222222222222222222222222222'
/** The one-time signer of PROXY_DEPLOY_TX (recovered from its signature). */
export const PROXY_SIGNER: Hex = '0x3fab184622dc19b6109349b94811493bf2a45362'
/** What the signer must hold: gas limit 100,000 × 100 gwei = 0.01 ETH (about 68,000 gas is used). */
export const PROXY_DEPLOY_COST = 100_000n * 100_000_000_000n
/** The proxy's runtime code, as its deployment leaves it. */
export const PROXY_RUNTIME: Hex = '0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf3'
export const PROXY_LABEL = 'deploy the CREATE2 deployment proxy'


export type ProxyPlan = { needed: boolean; fund: bigint }

/** Whether the proxy must be deployed, and how much ETH its signer still needs (0.01 ETH minus what it holds). */
export async function proxyPlan(s: ChainSession): Promise<ProxyPlan> {
  const code = (await s.publicClient.getCode({ address: CREATE2_FACTORY })) ?? '0x'
  if (code !== '0x') return { needed: false, fund: 0n }
  const [nonce, balance] = await Promise.all([s.publicClient.getTransactionCount({ address: PROXY_SIGNER }), s.publicClient.getBalance({ address: PROXY_SIGNER })])
  if (nonce > 0)
    throw new ChainError(`chain ${s.chainId} has no CREATE2 deployment proxy at ${CREATE2_FACTORY}, and its one-time signer ${PROXY_SIGNER} has already sent a transaction`, {
      hint: 'the presigned deployment can no longer be used on this chain; deploy the proxy another way (github.com/Arachnid/deterministic-deployment-proxy)',
    })
  return { needed: true, fund: balance >= PROXY_DEPLOY_COST ? 0n : PROXY_DEPLOY_COST - balance }
}

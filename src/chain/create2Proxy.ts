import { formatEther, keccak256, type Hex } from 'viem'
import { CREATE2_FACTORY } from '../codegen/admin/adminLibrary.ts'
import { ChainError } from '../errors/base.ts'
import type { ChainSession } from './connectChain.ts'
import { sendTx, type TxRecord } from './sendTx.ts'
import { errorText, KNOWN, NONCE } from './txErrors.ts'
import { PROXY_DEPLOY_TX, PROXY_LABEL, PROXY_RUNTIME, PROXY_SIGNER, proxyPlan } from './create2ProxyTx.ts'

const REFUSED = /eip-?155|replay|unprotected|protected transaction|chain ?id/

async function hasProxy(s: ChainSession): Promise<boolean> {
  return ((await s.publicClient.getCode({ address: CREATE2_FACTORY })) ?? '0x').toLowerCase() === PROXY_RUNTIME
}

/**
 * Put the CREATE2 deployment proxy on the chain when it is missing: fund its one-time signer (one
 * transaction of ours), then broadcast the presigned deployment. Returns our funding transaction (null
 * when nothing was sent by us). Someone else deploying it meanwhile is fine: the code is checked at the end.
 */
export async function ensureCreate2Proxy(s: ChainSession): Promise<{ fund: TxRecord | null; deployed: boolean }> {
  const plan = await proxyPlan(s)
  if (!plan.needed) return { fund: null, deployed: false }
  let fund: TxRecord | null = null
  if (plan.fund > 0n) {
    const { logs: _logs, ...sent } = await sendTx(s, `fund the CREATE2 proxy's signer (${formatEther(plan.fund)} ETH)`, { to: PROXY_SIGNER, data: '0x', value: plan.fund, gas: 21_000n })
    fund = sent
  }
  // the same bytes everywhere, so the same hash: "already known" or "nonce too low" mean it is (being) mined
  const hash: Hex = keccak256(PROXY_DEPLOY_TX)
  try {
    await s.walletClient.sendRawTransaction({ serializedTransaction: PROXY_DEPLOY_TX })
  } catch (e) {
    const text = errorText(e)
    if (!(KNOWN.test(text) || NONCE.test(text))) {
      if (await hasProxy(s)) return { fund, deployed: false }
      throw new ChainError(
        REFUSED.test(text)
          ? `chain ${s.chainId} refuses the presigned pre-EIP-155 transaction that deploys the CREATE2 deployment proxy`
          : `${PROXY_LABEL} failed: ${String((e as { shortMessage?: string })?.shortMessage ?? (e as Error)?.message ?? e).split('\n')[0]}`,
        {
          where: 'chain.rpcUrl',
          hint: `ml2sc's models reach their shared admin library through the proxy at ${CREATE2_FACTORY}: allow unprotected transactions on the node once (geth: --rpc.allow-unprotected-txs) or deploy the proxy there another way`,
          cause: e,
        },
      )
    }
  }
  if (!(await hasProxy(s))) await s.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 250, timeout: Number(process.env.ML2SC_TX_TIMEOUT_MS ?? 600_000) }).catch(() => undefined)
  if (!(await hasProxy(s)))
    throw new ChainError(`after broadcasting its presigned deployment, chain ${s.chainId} still has no CREATE2 deployment proxy at ${CREATE2_FACTORY}`, {
      hint: "the node may price gas above the presigned 100 gwei, or have dropped the transaction; deploy the proxy another way (github.com/Arachnid/deterministic-deployment-proxy)",
    })
  return { fund, deployed: true }
}

import type { Hex } from 'viem'
import { runtimeCodeHash } from '../compile/runtimeCodeHash.ts'
import { ADMIN_DEPLOY_LABEL, adminDeployTx, adminLibrary } from '../codegen/admin/adminLibrary.ts'
import { ChainError } from '../errors/base.ts'
import type { ChainSession } from './connectChain.ts'
import { ensureCreate2Proxy } from './create2Proxy.ts'
import { sendTx, type TxRecord } from './sendTx.ts'

export type AdminLibraryStatus = {
  address: Hex
  codeHash: Hex
  /** The library's deployment, or null when it was already there (or someone else deployed it meanwhile). */
  tx: TxRecord | null
  /** Our funding of the CREATE2 proxy's one-time signer, when the chain lacked the proxy. */
  proxyFund?: TxRecord | null
}

const known = new WeakMap<ChainSession, AdminLibraryStatus>()

/**
 * Make sure ml2sc's shared admin library is on the chain (once per chain: every model contract
 * DELEGATECALLs it for ownership, uploads and updates). Deploys it through the CREATE2 deployment proxy
 * when absent, putting the proxy there first by its presigned transaction when the chain lacks it (see
 * create2Proxy.ts). A library deployed by someone else between our check and our send (our CREATE2 then
 * reverts) is fine: the code at the address is read again and accepted when it is the library.
 */
export async function ensureAdminLibrary(s: ChainSession): Promise<AdminLibraryStatus> {
  const hit = known.get(s)
  if (hit) return { ...hit, tx: null, proxyFund: null }
  const lib = adminLibrary()
  const code = async (a: Hex) => (await s.publicClient.getCode({ address: a })) ?? '0x'
  const genuine = (c: Hex) => c !== '0x' && runtimeCodeHash(c, lib.immutables) === lib.codeHash
  let tx: TxRecord | null = null
  let proxyFund: TxRecord | null = null
  let onChain = await code(lib.address)
  if (onChain === '0x') {
    proxyFund = (await ensureCreate2Proxy(s)).fund
    try {
      tx = await sendTx(s, ADMIN_DEPLOY_LABEL, adminDeployTx(lib))
    } catch (e) {
      // front-run: the estimate or the transaction reverts because the address is taken by now
      if (!genuine(await code(lib.address))) throw e
    }
    onChain = await code(lib.address)
  }
  if (!genuine(onChain))
    throw new ChainError(`the code at ${lib.address} is not ml2sc's admin library`, { hint: 'this should be impossible for a CREATE2 address; check the chain and the RPC endpoint' })
  const status = { address: lib.address, codeHash: lib.codeHash, tx: tx && { label: tx.label, hash: tx.hash, gasUsed: tx.gasUsed, to: tx.to }, proxyFund }
  known.set(s, status)
  return status
}

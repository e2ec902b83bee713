import type { Hex } from 'viem'
import { runtimeCodeHash } from '../compile/runtimeCodeHash.ts'
import { ADMIN_DEPLOY_LABEL, adminDeployTx, adminLibrary, CREATE2_FACTORY } from '../codegen/adminLibrary.ts'
import { ChainError } from '../errors/base.ts'
import type { ChainSession } from './connectChain.ts'
import { sendTx, type TxRecord } from './sendTx.ts'

export type AdminLibraryStatus = { address: Hex; codeHash: Hex; tx: TxRecord | null }

const known = new WeakMap<ChainSession, AdminLibraryStatus>()

/**
 * Make sure ml2sc's shared admin library is on the chain (once per chain: every model contract
 * DELEGATECALLs it for ownership, uploads and getters). Deploys it through the CREATE2 deployment
 * proxy when absent; `tx` is that deployment, or null when it was already there.
 */
export async function ensureAdminLibrary(s: ChainSession): Promise<AdminLibraryStatus> {
  const hit = known.get(s)
  if (hit) return { ...hit, tx: null }
  const lib = adminLibrary()
  const code = async (a: Hex) => (await s.publicClient.getCode({ address: a })) ?? '0x'
  let tx: TxRecord | null = null
  let onChain = await code(lib.address)
  if (onChain === '0x') {
    if ((await code(CREATE2_FACTORY)) === '0x')
      throw new ChainError(`chain ${s.chainId} has no CREATE2 deployment proxy at ${CREATE2_FACTORY}`, {
        hint: 'ml2sc deploys its shared admin library through it (anvil, Foundry and most chains have it); deploy it first (github.com/Arachnid/deterministic-deployment-proxy)',
      })
    tx = await sendTx(s, ADMIN_DEPLOY_LABEL, adminDeployTx(lib))
    onChain = await code(lib.address)
  }
  if (runtimeCodeHash(onChain, lib.immutables) !== lib.codeHash)
    throw new ChainError(`the code at ${lib.address} is not ml2sc's admin library`, { hint: 'this should be impossible for a CREATE2 address; check the chain and the RPC endpoint' })
  const status = { address: lib.address, codeHash: lib.codeHash, tx }
  known.set(s, status)
  return status
}

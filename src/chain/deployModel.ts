import type { Abi, Hex } from 'viem'
import { ChainError } from '../errors/base.ts'
import type { ChainSession } from './connectChain.ts'
import { ensureAdminLibrary, type AdminLibraryStatus } from './ensureAdminLibrary.ts'
import { sendTx, type TxRecord } from './sendTx.ts'

/** Deploy a contract; a model contract (`admin`, the default) first gets the shared admin library it DELEGATECALLs. */
export async function deployModel(s: ChainSession, bytecode: Hex, abi: Abi, opts: { admin?: boolean } = {}): Promise<{ address: Hex; tx: TxRecord; admin: AdminLibraryStatus | null }> {
  const admin = opts.admin === false ? null : await ensureAdminLibrary(s)
  const tx = await sendTx(s, 'deploy', { data: bytecode }, abi)
  if (!tx.contractAddress) throw new ChainError('deploy transaction created no contract', { hint: `transaction ${tx.hash}` })
  return { address: tx.contractAddress, tx, admin }
}

import type { Abi, Hex } from 'viem'
import { ChainError } from '../errors/base.ts'
import type { ChainSession } from './connectChain.ts'
import { sendTx, type TxRecord } from './sendTx.ts'

export async function deployModel(s: ChainSession, bytecode: Hex, abi: Abi): Promise<{ address: Hex; tx: TxRecord }> {
  const tx = await sendTx(s, 'deploy', { data: bytecode }, abi)
  if (!tx.contractAddress) throw new ChainError('deploy transaction created no contract', { hint: `transaction ${tx.hash}` })
  return { address: tx.contractAddress, tx }
}

// A transaction that an earlier transaction in the same block made revert: the error names the contract's
// own revert reason, read from the node's trace of the mined transaction (anvil), or, on a node that keeps
// no traces (Hardhat's EDR has no callTracer), says that it did not run out of gas and that the state
// changed before it in its block; it is never blamed on the gas limit. A transaction that did use all of
// its gas is called out of gas. Automine is off so that the three transactions share one block.
import { afterAll, describe, expect, test } from 'bun:test'
import { encodeFunctionData, type Abi } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { connectChain, type ChainSession } from '../../src/chain/connectChain.ts'
import { deployModel } from '../../src/chain/deployModel.ts'
import { sendTx, submitTx } from '../../src/chain/sendTx.ts'
import { approveSpending } from '../../src/chain/spendGuard.ts'
import { generateSolidity } from '../../src/codegen/generateSolidity.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { randomModel } from '../../bench/measure.ts'
import { hardhatMissing, startHardhatNode } from './hardhatNode.ts'
import { errorOf, startRemoteAnvil, type RemoteAnvil } from './helpers.ts'

const nodes: RemoteAnvil[] = []
const sessions: ChainSession[] = []
afterAll(async () => {
  for (const s of sessions) await s.close()
  for (const n of nodes) await n.stop()
})
const compiled = compileSolidity(generateSolidity(makePlan(randomModel([4, 3, 1], 'sigmoid', 5), { fraction: 20, weightBytes: 2, inputBytes: 4 }), { contractName: 'R', embedWeights: false }), 'R')
const abi = compiled.abi as Abi
const call = (functionName: string, args: unknown[] = []) => encodeFunctionData({ abi, functionName, args })

async function sameBlockRevert(node: RemoteAnvil, lowGas = true): Promise<{ error: string; outOfGas?: string }> {
  approveSpending(true)
  const [owner, heir] = await Promise.all([0, 1].map((i) => connectChain({ rpcUrl: node.url, hardfork: 'prague', txGasCap: 16_777_216, blockGasLimit: 30_000_000 }, { ML2SC_PRIVATE_KEY: node.keys[i]! })))
  sessions.push(owner!, heir!)
  const { address } = await deployModel(owner!, compiled.bytecode, abi)
  const rpc = (method: string, params: unknown[] = []) => owner!.publicClient.request({ method: method as 'eth_chainId', params: params as never })
  const heirAddress = privateKeyToAccount(node.keys[1]!).address
  await rpc('evm_setAutomine', [false])
  try {
    // one block: the owner hands the contract over, the heir accepts, then the owner's own write (its gas
    // given, so nothing is estimated) finds that it is no longer the owner
    const hand = await submitTx(owner!, 'transferOwnership', { to: address, data: call('transferOwnership', [heirAddress]), gas: 200_000n }, abi)
    const accept = await submitTx(heir!, 'acceptOwnership', { to: address, data: call('acceptOwnership'), gas: 200_000n }, abi)
    const late = await submitTx(owner!, 'transferOwnership again', { to: address, data: call('transferOwnership', [owner!.account.address]), gas: 200_000n }, abi)
    await rpc('evm_mine')
    await hand.wait()
    await accept.wait()
    const error = await errorOf(late.wait())
    await rpc('evm_setAutomine', [true])
    // the heir's write with too little gas for its storage writes: it uses all of it (anvil mines it; Hardhat
    // refuses such a transaction before mining it)
    const outOfGas = lowGas && await errorOf(sendTx(heir!, 'transferOwnership (low gas)', { to: address, data: call('transferOwnership', [owner!.account.address]), gas: 30_000n }, abi))
    return { error, outOfGas: outOfGas || undefined }
  } finally {
    await rpc('evm_setAutomine', [true])
  }
}

describe('a transaction made to revert by an earlier one in its block', () => {
  test('anvil: the revert reason from the node\'s trace of the mined transaction (NotOwner), not the gas limit', async () => {
    const node = await startRemoteAnvil({ chainId: 4262 })
    nodes.push(node)
    const { error, outOfGas } = await sameBlockRevert(node)
    expect(error).toMatch(/^transferOwnership again reverted: NotOwner\(0x[0-9a-fA-F]{40}\) \(transaction 0x[0-9a-f]{64}, block \d+\)/)
    expect(error).not.toMatch(/gas limit/)
    expect(outOfGas).toMatch(/^transferOwnership \(low gas\) ran out of gas \(transaction 0x[0-9a-f]{64}: it used \d+ of its 30000 gas\)/)
  }, 900_000)

  test.skipIf(!!hardhatMissing())('Hardhat\'s node (no callTracer): "it did not run out of gas … a transaction before it in block N changed the state"', async () => {
    const node = await startHardhatNode({ chainId: 31_337 })
    nodes.push(node)
    const { error } = await sameBlockRevert(node, false)
    expect(error).toMatch(/^transferOwnership again reverted \(transaction 0x[0-9a-f]{64}, block (\d+), \d+ of 200000 gas used\)/)
    const block = /block (\d+),/.exec(error)![1]
    expect(error).toContain(`it did not run out of gas, and the same call succeeds at block ${Number(block) - 1}: a transaction before it in block ${block} changed the state it reads`)
  }, 900_000)
})

// Adversarial review after issue 18: a stranger races the update mark. The owner's uploader asks the
// contract whether chunk 0 of the first update needs the 1-wei mark (the model's balance is 0), and sends
// it with 1 wei; a stranger sees that transaction waiting and, in the same block, ahead of it, forces wei
// into the model (a contract that SELFDESTRUCTs to it in its constructor, which nothing can refuse). The
// contract then refuses the marked chunk (UnexpectedValue(1): the balance before the call was no longer 0).
// The upload must still succeed: the model needs no mark any more, and nothing of the weights was lost.
import { describe, expect, test } from 'bun:test'
import type { Hex } from 'viem'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { deployModel } from '../../src/chain/deployModel.ts'
import { uploadWeights } from '../../src/chain/uploadWeights.ts'
import { embedsWeights, generateSolidity } from '../../src/codegen/generateSolidity.ts'
import { chunkSizes, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { encodeRow } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { negated, predictOf } from '../helpers/forgery.ts'
import { randomMlp } from '../helpers/randomMlp.ts'
import { rng } from '../helpers/rng.ts'

let s: ChainSession
fileChain((c) => (s = c))

const plan = makePlan(randomMlp([8, 12, 2], 31), { fraction: 16, weightBytes: 2, inputBytes: 4 })
const plan2 = negated(plan)

/** Poll the node's pool (no wall-clock limit: until the test's own timeout) until a transaction to `to` waits there. */
async function waitingFor(to: Hex): Promise<void> {
  for (;;) {
    const pool = (await s.publicClient.request({ method: 'txpool_content' } as never)) as { pending: Record<string, Record<string, { to?: string }>> }
    if (Object.values(pool.pending).some((byNonce) => Object.values(byNonce).some((tx) => tx.to?.toLowerCase() === to.toLowerCase()))) return
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('review: a stranger races the update mark', () => {
  for (const chunk of [undefined, 64]) test(`wei forced in ahead of the marked chunk 0 (${chunk ? 'several chunks, pipelined' : 'one chunk'}): the upload still lands, without the mark`, async () => {
    expect(embedsWeights(plan)).toBe(true)
    const c = compileSolidity(generateSolidity(plan, { contractName: 'Race', forward: false, ...(chunk ? { chunkSize: chunk } : {}) }), 'Race')
    const { address } = await deployModel(s, c.bytecode, c.abi)
    const blob2 = encodeWeights(plan2)
    const sizes = chunkSizes(blob2.length, chunk)
    if (chunk) expect(sizes.length).toBeGreaterThan(2)
    const [, stranger] = (await s.publicClient.request({ method: 'eth_accounts' } as never)) as Hex[]
    await s.publicClient.request({ method: 'evm_setAutomine', params: [false] } as never)
    let upload: Promise<unknown> | undefined
    try {
      upload = uploadWeights(s, address, c.abi, blob2, sizes).then(() => undefined, (e) => e)
      await waitingFor(address)
      // PUSH20 model SELFDESTRUCT, created with 1 wei, tipped to come first in the block
      await s.publicClient.request({ method: 'eth_sendTransaction', params: [{ from: stranger, data: `0x73${address.slice(2)}ff`, value: '0x1', gas: '0x30000', maxPriorityFeePerGas: '0x174876e800', maxFeePerGas: '0x2e90edd000' }] } as never)
      await s.publicClient.request({ method: 'evm_mine' } as never)
    } finally {
      await s.publicClient.request({ method: 'evm_setAutomine', params: [true] } as never)
    }
    const failure = await upload
    expect(failure ? String((failure as Error).message) : undefined).toBeUndefined()
    expect(await s.publicClient.getBalance({ address })).toBe(1n)
    const r = rng(5)
    for (let k = 0; k < 3; k++) {
      const row = (encodeRow(plan, Array.from({ length: 8 }, () => r() * 2 - 1)) as { values: bigint[] }).values
      expect(await predictOf(s, address, c.abi, plan, row)).toEqual(simulate(plan2, row))
    }
  }, 240_000)
})

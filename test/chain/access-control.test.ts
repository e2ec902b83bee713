// Access control of the model contract, on a second anvil standing in for a remote node: a stranger's
// call to every state-changing function reverts with the right custom error and changes nothing (checked
// in the public views, the raw storage slots and the code); ownership moves only in two steps; a
// half-written update refuses inference (NotReady) until its last chunk lands.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { encodeFunctionData, keccak256, parseEventLogs, toHex, zeroAddress, type Abi, type Hex } from 'viem'
import { connectChain, type ChainSession } from '../../src/chain/connectChain.ts'
import { deployModel } from '../../src/chain/deployModel.ts'
import { predictBatchTx } from '../../src/chain/evaluateOnChain.ts'
import { readModelState } from '../../src/chain/modelState.ts'
import { sendTx } from '../../src/chain/sendTx.ts'
import { approveSpending } from '../../src/chain/spendGuard.ts'
import { uploadWeights } from '../../src/chain/uploadWeights.ts'
import { generateSolidity } from '../../src/codegen/generateSolidity.ts'
import { chunkSizes, commitmentOf, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { encodeRow, packRowWords } from '../../src/fixed/encodeRows.ts'
import type { Plan } from '../../src/fixed/types.ts'
import { prepareModel } from '../../src/pipeline/prepareModel.ts'
import { randomProject, startRemoteAnvil, type RemoteAnvil } from './helpers.ts'

const CHUNK = 64
let remote: RemoteAnvil
let owner: ChainSession, stranger: ChainSession, heir: ChainSession
let abi: Abi
let address: Hex
let plan: Plan, plan2: Plan
let blob: Uint8Array, blob2: Uint8Array
let sizes: number[]

const session = (key: Hex) => connectChain({ rpcUrl: remote.url, hardfork: 'prague', txGasCap: 16_777_216, blockGasLimit: 30_000_000 }, { ML2SC_PRIVATE_KEY: key })
const chunkOf = (b: Uint8Array, i: number) => b.subarray(i * CHUNK, i * CHUNK + sizes[i]!)
const call = (functionName: string, args: unknown[] = []) => encodeFunctionData({ abi, functionName, args })

/** Everything observable about the contract: views, the first storage slots, and its code. */
async function snapshot() {
  const st = await readModelState(owner, address, abi, { chunks: sizes.length })
  const slots = await Promise.all(Array.from({ length: 3 + sizes.length + 2 }, (_, i) => owner.publicClient.getStorageAt({ address, slot: toHex(i, { size: 32 }) })))
  const code = keccak256((await owner.publicClient.getCode({ address }))!)
  return { ...st, slots, code }
}

async function expectRevert(p: Promise<unknown>, error: RegExp) {
  let err: unknown
  try {
    await p
  } catch (e) {
    err = e
  }
  expect(err).toBeDefined()
  expect(String((err as Error).message)).toMatch(error)
}

beforeAll(async () => {
  remote = await startRemoteAnvil()
  approveSpending(true) // a non-local chain: what `--yes` does on the command line
  ;[owner, stranger, heir] = await Promise.all([session(remote.keys[0]!), session(remote.keys[1]!), session(remote.keys[2]!)])
  const p1 = randomProject({ sizes: [8, 16, 3], seed: 7 })
  const p2 = randomProject({ sizes: [8, 16, 3], seed: 7 })
  // the same model with one weight nudged: an update
  const w = JSON.parse(await Bun.file(p2.weights).text())
  w['fc1.weight'][2][3] += 0.01
  await Bun.write(p2.weights, JSON.stringify(w))
  plan = (await prepareModel(await loadConfig(p1.config))).plan
  plan2 = (await prepareModel(await loadConfig(p2.config))).plan
  blob = encodeWeights(plan)
  blob2 = encodeWeights(plan2)
  sizes = chunkSizes(blob.length, CHUNK)
  const c = compileSolidity(generateSolidity(plan, { contractName: 'Guarded', chunkSize: CHUNK, embedWeights: false }), 'Guarded')
  abi = c.abi
  ;({ address } = await deployModel(owner, c.bytecode, abi))
  await uploadWeights(owner, address, abi, blob, sizes)
})
afterAll(async () => {
  approveSpending(false)
  await Promise.all([owner?.close(), stranger?.close(), heir?.close()])
  await remote?.stop()
})

describe('access control (stranger account)', () => {
  test('the deployment is what we expect: several chunks, ready, owned by the deployer', async () => {
    expect(sizes.length).toBeGreaterThanOrEqual(3)
    const st = await readModelState(owner, address, abi, { chunks: sizes.length })
    expect(st.owner.toLowerCase()).toBe(owner.account.address.toLowerCase())
    expect(st.pendingOwner).toBe(zeroAddress)
    expect(st.ready).toBe(true)
    expect(st.version).toBe(1)
    expect(st.commitment).toBe(commitmentOf(blob))
    expect(st.chunks.length).toBe(sizes.length)
    expect(new Set(st.chunks).size).toBe(sizes.length)
  })

  const strangerCalls = () => [
    { what: 'writeChunk(0)', data: call('writeChunk', [0n, toHex(chunkOf(blob2, 0)), commitmentOf(blob2)]), error: /NotOwner\(0x[0-9a-fA-F]{40}\)/ },
    { what: 'writeChunk(1)', data: call('writeChunk', [1n, toHex(chunkOf(blob2, 1)), commitmentOf(blob2)]), error: /NotOwner/ },
    { what: `writeChunk(last)`, data: call('writeChunk', [BigInt(sizes.length - 1), toHex(chunkOf(blob2, sizes.length - 1)), commitmentOf(blob2)]), error: /NotOwner/ },
    { what: 'transferOwnership(stranger)', data: call('transferOwnership', [stranger.account.address]), error: /NotOwner/ },
    { what: 'acceptOwnership()', data: call('acceptOwnership'), error: /NotPendingOwner\(0x[0-9a-fA-F]{40}\)/ },
  ]

  test('every state-changing function reverts for a stranger (refused at estimation), and nothing changes', async () => {
    const before = await snapshot()
    for (const c of strangerCalls()) {
      await expectRevert(sendTx(stranger, c.what, { to: address, data: c.data }, abi), c.error)
    }
    expect(await snapshot()).toEqual(before)
  })

  test('the same calls mined as real transactions revert on chain, and nothing changes', async () => {
    const before = await snapshot()
    const nonce0 = await stranger.publicClient.getTransactionCount({ address: stranger.account.address })
    for (const c of strangerCalls()) {
      // an explicit gas limit skips eth_estimateGas: the transaction is mined and reverts
      await expectRevert(sendTx(stranger, c.what, { to: address, data: c.data, gas: 3_000_000n }, abi), c.error)
    }
    const nonce1 = await stranger.publicClient.getTransactionCount({ address: stranger.account.address })
    expect(nonce1 - nonce0).toBe(strangerCalls().length) // they really were mined
    expect(await snapshot()).toEqual(before)
  })

  test('the error names the stranger and says what to do', async () => {
    const c = strangerCalls()[0]!
    await expectRevert(sendTx(stranger, 'upload chunk 1', { to: address, data: c.data }, abi), new RegExp(`NotOwner\\(${stranger.account.address}\\)`))
    try {
      await sendTx(stranger, 'upload chunk 1', { to: address, data: c.data }, abi)
    } catch (e) {
      expect((e as { hint?: string }).hint).toMatch(/owner/)
    }
  })

  test('predictBatch is public: a stranger gets answers and changes nothing', async () => {
    const before = await snapshot()
    const row = (encodeRow(plan, new Array(plan.inputSize).fill(0.25)) as { values: bigint[] }).values
    const res = await predictBatchTx(stranger, address, abi, plan, [row, row], 'stranger batch')
    expect(res.outputs.length).toBe(2)
    expect(await snapshot()).toEqual(before)
  })
})

describe('two-step ownership and updates', () => {
  test('transferOwnership only names a pending owner; only that account can accept', async () => {
    await sendTx(owner, 'transferOwnership', { to: address, data: call('transferOwnership', [heir.account.address]) }, abi)
    let st = await readModelState(owner, address, abi, { chunks: sizes.length })
    expect(st.owner.toLowerCase()).toBe(owner.account.address.toLowerCase()) // not yet
    expect(st.pendingOwner.toLowerCase()).toBe(heir.account.address.toLowerCase())
    await expectRevert(sendTx(stranger, 'acceptOwnership', { to: address, data: call('acceptOwnership') }, abi), /NotPendingOwner/)
    await sendTx(heir, 'acceptOwnership', { to: address, data: call('acceptOwnership') }, abi)
    st = await readModelState(owner, address, abi, { chunks: sizes.length })
    expect(st.owner.toLowerCase()).toBe(heir.account.address.toLowerCase())
    expect(st.pendingOwner).toBe(zeroAddress)
  })

  test('the previous owner is now a stranger', async () => {
    const before = await snapshot()
    await expectRevert(sendTx(owner, 'writeChunk', { to: address, data: call('writeChunk', [0n, toHex(chunkOf(blob2, 0)), commitmentOf(blob2)]) }, abi), /NotOwner/)
    await expectRevert(sendTx(owner, 'transferOwnership', { to: address, data: call('transferOwnership', [owner.account.address]) }, abi), /NotOwner/)
    expect(await snapshot()).toEqual(before)
  })

  test('an update: chunk 0 stops inference (NotReady) until the last chunk; then version 2 and ModelUpdated', async () => {
    const before = await readModelState(heir, address, abi, { chunks: sizes.length })
    const row = (encodeRow(plan2, new Array(plan2.inputSize).fill(0.25)) as { values: bigint[] }).values
    await sendTx(heir, 'update chunk 1', { to: address, data: call('writeChunk', [0n, toHex(chunkOf(blob2, 0)), commitmentOf(blob2)]) }, abi)
    const mid = await readModelState(heir, address, abi, { chunks: sizes.length })
    expect(mid.ready).toBe(false)
    expect(mid.chunksWritten).toBe(1)
    expect(mid.version).toBe(1)
    await expectRevert(predictBatchTx(stranger, address, abi, plan2, [row], 'batch mid-update'), /NotReady/)
    await expectRevert(heir.publicClient.call({ to: address, data: call('predict', [packRowWords(plan2, row)]) }), /NotReady|revert/i)
    // out of order is refused too
    if (sizes.length > 2) await expectRevert(sendTx(heir, 'chunk 3 early', { to: address, data: call('writeChunk', [2n, toHex(chunkOf(blob2, 2)), commitmentOf(blob2)]) }, abi), /ChunkOutOfOrder/)
    let last: Awaited<ReturnType<typeof sendTx>> | undefined
    for (let i = 1; i < sizes.length; i++) last = await sendTx(heir, `update chunk ${i + 1}`, { to: address, data: call('writeChunk', [BigInt(i), toHex(chunkOf(blob2, i)), commitmentOf(blob2)]) }, abi)
    const events = parseEventLogs({ abi, logs: last!.logs as never, eventName: 'ModelUpdated' }) as unknown as { args: { version: bigint; commitment: Hex } }[]
    expect(events.length).toBe(1)
    expect(events[0]!.args.version).toBe(2n)
    expect(events[0]!.args.commitment).toBe(commitmentOf(blob2))
    const after = await readModelState(heir, address, abi, { chunks: sizes.length })
    expect(after.ready).toBe(true)
    expect(after.version).toBe(2)
    expect(after.commitment).toBe(commitmentOf(blob2))
    expect(after.commitment).not.toBe(before.commitment)
    after.chunks.forEach((a, i) => expect(a).not.toBe(before.chunks[i]))
    const res = await predictBatchTx(stranger, address, abi, plan2, [row], 'batch after update')
    expect(res.outputs.length).toBe(1)
  })
})

// An attacker's view of the owner-only side of a model with `chain.owner` (deployed by someone else):
// malformed calls, a client that leaves out the upload commitment, ownership changing hands in the middle
// of an upload, the initial owner after a transfer, and a cancelled transfer. Each case checks what the
// chain refuses and that nothing an attacker does changes the contract.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { concat, encodeFunctionData, pad, toHex, zeroHash, type Abi, type Hex } from 'viem'
import { connectChain, type ChainSession } from '../../src/chain/connectChain.ts'
import { deployModel } from '../../src/chain/deployModel.ts'
import { readModelState } from '../../src/chain/modelState.ts'
import { sendTx } from '../../src/chain/sendTx.ts'
import { approveSpending } from '../../src/chain/spendGuard.ts'
import { uploadWeights } from '../../src/chain/uploadWeights.ts'
import { FUNCTIONS, selectorOf } from '../../src/codegen/admin/abiSignatures.ts'
import { generateSolidity } from '../../src/codegen/generateSolidity.ts'
import { chunkSizes, commitmentOf, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { prepareModel } from '../../src/pipeline/prepareModel.ts'
import { errorOf, randomProject, startRemoteAnvil, type RemoteAnvil } from './helpers.ts'

const CHUNK = 64
let remote: RemoteAnvil
let deployer: ChainSession, owner: ChainSession, heir: ChainSession, attacker: ChainSession
let abi: Abi
let address: Hex
let blobA: Uint8Array, blobB: Uint8Array
let sizes: number[]

const session = (key: Hex) => connectChain({ rpcUrl: remote.url, hardfork: 'prague', txGasCap: 16_777_216, blockGasLimit: 30_000_000 }, { ML2SC_PRIVATE_KEY: key })
const call = (functionName: string, args: unknown[] = []) => encodeFunctionData({ abi, functionName, args })
const chunkOf = (b: Uint8Array, i: number) => toHex(b.subarray(i * CHUNK, i * CHUNK + sizes[i]!))
/** A mined transaction (explicit gas: no estimation), so that a revert really happens on chain. */
const send = (s: ChainSession, label: string, data: Hex) => sendTx(s, label, { to: address, data, gas: 3_000_000n }, abi)
const write = (s: ChainSession, b: Uint8Array, i: number, commitment: Hex = commitmentOf(b)) => send(s, `chunk ${i}`, call('writeChunk', [BigInt(i), chunkOf(b, i), commitment]))
const state = () => readModelState(deployer, address, abi, { chunks: sizes.length })
const same = (a: string, b: string) => expect(a.toLowerCase()).toBe(b.toLowerCase())

/** The views and the raw slots 0-2: what an attacker must not be able to change. */
async function snapshot() {
  const slots = await Promise.all([0, 1, 2].map((i) => deployer.publicClient.getStorageAt({ address, slot: toHex(i, { size: 32 }) })))
  return { ...(await state()), slots }
}

beforeAll(async () => {
  remote = await startRemoteAnvil()
  approveSpending(true)
  ;[deployer, owner, heir, attacker] = await Promise.all([0, 1, 2, 3].map((i) => session(remote.keys[i]!)))
  const p = randomProject({ sizes: [8, 16, 3], seed: 9 })
  const planA = (await prepareModel(await loadConfig(p.config))).plan
  blobA = encodeWeights(planA)
  // other weights: the contract does not read the bytes it stores, so B is A with every byte changed (then
  // A's first chunks with B's last ones are neither A nor B)
  blobB = blobA.map((b) => b ^ 0x5a)
  sizes = chunkSizes(blobA.length, CHUNK)
  expect(sizes.length).toBeGreaterThanOrEqual(3)
  // the owner is fixed in the creation code; a third account deploys it
  const c = compileSolidity(generateSolidity(planA, { contractName: 'Owned', chunkSize: CHUNK, embedWeights: false, owner: remote.accounts[1] }), 'Owned')
  abi = c.abi
  ;({ address } = await deployModel(deployer, c.bytecode, abi))
})
afterAll(async () => {
  approveSpending(false)
  await Promise.all([deployer, owner, heir, attacker].map((s) => s?.close()))
  await remote?.stop()
})

describe('malformed calls reach no owner-only code', () => {
  test('calldata shorter than a selector (empty, 1-3 bytes), an unknown selector, or no arguments: refused, nothing changes', async () => {
    const before = await snapshot()
    // shorter than a selector: the library sees less than selector + the model's three words, and reverts bare
    for (const data of ['0x', '0xda', '0xda1a8c'] as Hex[]) expect(await errorOf(send(attacker, `raw ${data}`, data))).toMatch(/reverted/)
    expect(await errorOf(send(attacker, 'raw 0xdeadbeef', '0xdeadbeef'))).toMatch(/UnknownFunction\(0xdeadbeef\)/)
    // writeChunk with its arguments cut off: NotOwner comes first for a stranger
    expect(await errorOf(send(attacker, 'bare writeChunk', selectorOf(FUNCTIONS.writeChunk) as Hex))).toMatch(/NotOwner/)
    expect(await snapshot()).toEqual(before)
  })

  test('transferOwnership with an argument that is not an address (dirty upper bits) is refused, even from the owner', async () => {
    const dirty = concat([selectorOf(FUNCTIONS.transferOwnership) as Hex, pad(toHex(1n << 200n | BigInt(remote.accounts[3]!)), { size: 32 })])
    expect(await errorOf(send(owner, 'dirty transfer', dirty))).toMatch(/BadCalldata/)
    expect((await state()).pendingOwner).toBe('0x0000000000000000000000000000000000000000')
  })
})

describe('uploads', () => {
  test('a client that leaves the commitment out (zero) cannot put weights live: the last chunk reverts', async () => {
    for (let i = 0; i < sizes.length - 1; i++) await write(owner, blobA, i, zeroHash)
    const err = await errorOf(write(owner, blobA, sizes.length - 1, zeroHash))
    expect(err).toMatch(new RegExp(`CommitmentMismatch\\(${zeroHash}, ${commitmentOf(blobA)}\\)`))
    expect((await state()).ready).toBe(false)
    await uploadWeights(owner, address, abi, blobA, sizes)
    const st = await state()
    expect([st.ready, st.version, st.commitment]).toEqual([true, 1, commitmentOf(blobA)])
  })

  test('ownership changes hands mid-upload: the old owner is locked out at once, and the new owner cannot finish the old upload with other weights', async () => {
    const k = 2
    for (let i = 0; i < k; i++) await write(owner, blobA, i)
    await send(owner, 'transfer', call('transferOwnership', [remote.accounts[2]]))
    await send(heir, 'accept', call('acceptOwnership'))
    expect(await errorOf(write(owner, blobA, k))).toMatch(/NotOwner/)
    // the heir's own weights cannot continue the old owner's upload: refused at the first chunk
    expect(await errorOf(write(heir, blobB, k))).toMatch(/UploadInterleaved/)
    // and chunks that claim the old upload's commitment but carry other bytes cannot go live either
    for (let i = k; i < sizes.length - 1; i++) await write(heir, blobB, i, commitmentOf(blobA))
    expect(await errorOf(write(heir, blobB, sizes.length - 1, commitmentOf(blobA)))).toMatch(/CommitmentMismatch/)
    expect((await state()).ready).toBe(false)
    await uploadWeights(heir, address, abi, blobB, sizes)
    const st = await state()
    expect([st.ready, st.version, st.commitment]).toEqual([true, 2, commitmentOf(blobB)])
  })
})

describe('ownership', () => {
  test('after a transfer, chain.owner (still in the code as the initial owner) has no rights left and cannot take them back', async () => {
    const before = await snapshot()
    same(before.owner, remote.accounts[2]!)
    expect(await errorOf(write(owner, blobA, 0))).toMatch(/NotOwner/)
    expect(await errorOf(send(owner, 'transfer back', call('transferOwnership', [remote.accounts[1]])))).toMatch(/NotOwner/)
    expect(await errorOf(send(owner, 'accept', call('acceptOwnership')))).toMatch(/NotPendingOwner/)
    expect(await snapshot()).toEqual(before)
  })

  test('transferOwnership(0) cancels a pending transfer: the named account can no longer accept', async () => {
    await send(heir, 'name the attacker', call('transferOwnership', [remote.accounts[3]]))
    same((await state()).pendingOwner, remote.accounts[3]!)
    await send(heir, 'cancel', call('transferOwnership', ['0x0000000000000000000000000000000000000000']))
    expect((await state()).pendingOwner).toBe('0x0000000000000000000000000000000000000000')
    const before = await snapshot()
    expect(await errorOf(send(attacker, 'accept', call('acceptOwnership')))).toMatch(/NotPendingOwner/)
    expect(await snapshot()).toEqual(before)
  })

})

// ml2sc's shared admin library on a real anvil: a model without it still answers but refuses its cold
// functions with AdminLibraryMissing; the library lands at its CREATE2 address once per chain; the
// deployer owns the model with slot 0 empty; a direct call to the library is refused, whatever words an
// attacker appends; the model's appended words cannot be spoofed by a caller.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { concat, encodeFunctionData, getContractAddress, keccak256, pad, toHex, type Abi, type Hex } from 'viem'
import { connectChain, type ChainSession } from '../../src/chain/connectChain.ts'
import { deployModel } from '../../src/chain/deployModel.ts'
import { ensureAdminLibrary } from '../../src/chain/ensureAdminLibrary.ts'
import { predictSingle } from '../../src/chain/evaluateOnChain.ts'
import { sendTx } from '../../src/chain/sendTx.ts'
import { adminLibrary, adminParams, CREATE2_FACTORY } from '../../src/codegen/admin/adminLibrary.ts'
import { generateSolidity } from '../../src/codegen/generateSolidity.ts'
import { commitmentOf, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import type { Plan } from '../../src/fixed/types.ts'
import { prepareModel } from '../../src/pipeline/prepareModel.ts'
import { randomProject } from './helpers.ts'

let s: ChainSession
let plan: Plan
let c: ReturnType<typeof compileSolidity>
const call = (abi: Abi, functionName: string, args: unknown[] = []) => encodeFunctionData({ abi, functionName, args })

beforeAll(async () => {
  s = await connectChain({ hardfork: 'prague', txGasCap: 16_777_216, blockGasLimit: 30_000_000 })
  const p = randomProject({ sizes: [6, 8, 3], seed: 3 })
  plan = (await prepareModel(await loadConfig(p.config))).plan
  c = compileSolidity(generateSolidity(plan, { contractName: 'Lean' }), 'Lean')
})
afterAll(async () => await s?.close())

async function revertOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (e) {
    return String((e as Error).message) + ' ' + String((e as { hint?: string }).hint ?? '')
  }
  throw new Error('expected a revert')
}

describe('shared admin library', () => {
  test('without the library a model answers predict, and its cold functions revert AdminLibraryMissing(library) with a hint', async () => {
    const lib = adminLibrary()
    expect(await s.publicClient.getCode({ address: lib.address })).toBeUndefined()
    const { address, admin } = await deployModel(s, c.bytecode, c.abi, { admin: false })
    expect(admin).toBeNull()
    // raw inputs spread over the plan's safe range (its calldata may be unsigned: the range then starts at 0)
    const row = Array.from({ length: plan.inputSize }, (_, i) => plan.inputMin + ((plan.inputMax - plan.inputMin) * BigInt(i + 1)) / BigInt(plan.inputSize + 1))
    const res = await predictSingle(s, address, c.abi, plan, row)
    expect(res.outputs).toEqual(simulate(plan, row))
    const msg = await revertOf(sendTx(s, 'transfer', { to: address, data: call(c.abi, 'transferOwnership', [s.account.address]) }, c.abi))
    expect(msg).toContain(`AdminLibraryMissing(${lib.address})`)
    expect(msg).toMatch(/ml2sc deploy/)
  })

  test('ensureAdminLibrary: once per chain, at the CREATE2 address of its initcode, with the expected code', async () => {
    const lib = adminLibrary()
    expect(lib.address).toBe(getContractAddress({ opcode: 'CREATE2', from: CREATE2_FACTORY, salt: lib.salt, bytecode: lib.initcode }))
    const first = await ensureAdminLibrary(s)
    expect(first.tx).not.toBeNull()
    expect(first.tx!.gasUsed).toBeGreaterThan(200_000) // ~1.7 KB of code: paid once, not per model
    expect(first.address).toBe(lib.address)
    const again = await ensureAdminLibrary(s)
    expect(again.tx).toBeNull()
    // a second model on the same chain does not deploy it again
    const { admin } = await deployModel(s, c.bytecode, c.abi)
    expect(admin!.tx).toBeNull()
  })

  test('the deployer owns a fresh model with nothing in storage; version 1, ready, the embedded commitment', async () => {
    const { address, tx } = await deployModel(s, c.bytecode, c.abi)
    const read = async (fn: string) => await s.publicClient.readContract({ address, abi: c.abi, functionName: fn, args: [] })
    for (let slot = 0; slot < 3; slot++) expect(await s.publicClient.getStorageAt({ address, slot: toHex(slot, { size: 32 }) })).toBe(toHex(0, { size: 32 }))
    expect(String(await read('owner')).toLowerCase()).toBe(s.account.address.toLowerCase())
    expect(await read('version')).toBe(1n)
    expect(await read('ready')).toBe(true)
    expect(await read('commitment')).toBe(commitmentOf(encodeWeights(plan)))
    expect(tx.gasUsed).toBeLessThan(600_000)
  })

  test('a direct call to the library is refused, even with appended words naming the caller as deployer', async () => {
    const lib = adminLibrary()
    const params = adminParams({ kind: 0, embedded: false, chunks: 1, chunkSize: 32, lastChunk: 32, blobLength: 32, inputs: 1, outputs: 1, rowBytes: 4, outputBytes: 3, scaleBase: 2, scaleExp: 20, inputScaleExp: 20 })
    const forged = concat([call(c.abi, 'writeChunk', [0n, toHex(new Uint8Array(32)), keccak256(new Uint8Array(32))]), toHex(params, { size: 32 }), pad('0x00'), pad(s.account.address)])
    expect(await revertOf(sendTx(s, 'direct', { to: lib.address, data: forged }))).toMatch(/revert/i)
    expect(await revertOf(sendTx(s, 'direct', { to: lib.address, data: call(c.abi, 'acceptOwnership') }))).toMatch(/revert/i)
  })

  test("a stranger's appended words do not count: the model appends its own after the whole call data", async () => {
    const { address } = await deployModel(s, c.bytecode, c.abi)
    const stranger = '0x000000000000000000000000000000000000dEaD'
    // the call data ends with words that would make the stranger the deployer, were they the last ones read
    const data = concat([call(c.abi, 'owner'), toHex(0n, { size: 32 }), toHex(0n, { size: 32 }), pad(stranger)])
    const out = (await s.publicClient.call({ to: address, data })).data as Hex
    expect(out.toLowerCase()).toBe(pad(s.account.address).toLowerCase())
  })
})

// Issue 18, part 1: genuine runtime code put on chain by a forger's own creation code, which also writes
// storage (the state word, the chunk slots, the owner) and sets immutables. Each forgery answers predict
// with other weights than the model's (or leaves the owner unable to act), while the contract's getters
// look genuine: verify must refuse every one, reading what predict reads (balance, raw storage, the
// address table's code, each chunk's code, immutables as full words), not only the contract's getters.
import { beforeAll, describe, expect, test } from 'bun:test'
import { concat, encodeFunctionData, getAddress, toHex, type Hex } from 'viem'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { ensureAdminLibrary } from '../../src/chain/ensureAdminLibrary.ts'
import { sendTx } from '../../src/chain/sendTx.ts'
import { verifyModel, type LocalModel } from '../../src/chain/verifyModel.ts'
import { stateMask } from '../../src/codegen/admin/adminLibrary.ts'
import { generateSolidity } from '../../src/codegen/generateSolidity.ts'
import { chunkSizes, commitmentOf, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { compileSolidity, type CompiledContract } from '../../src/compile/compileSolidity.ts'
import { encodeRow } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import type { Plan } from '../../src/fixed/types.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { addressTable, creationCode, dataContract, deployRaw, negated, predictOf, stateWord, withImmutables, withTail } from '../helpers/forgery.ts'
import { randomMlp } from '../helpers/randomMlp.ts'
import { rng } from '../helpers/rng.ts'
import { errorOf } from './helpers.ts'

let s: ChainSession
fileChain((c) => (s = c))

// E: weights embedded in the code (datacontract layout); M: 4 data contracts of 256 bytes and an address table
const E: Plan = makePlan(randomMlp([8, 12, 2], 31), { fraction: 16, weightBytes: 2, inputBytes: 4 })
const M: Plan = makePlan(randomMlp([16, 24, 4], 32), { fraction: 16, weightBytes: 2, inputBytes: 4 })
const CHUNK = 256
const r = rng(5)
const rowsOf = (plan: Plan, n: number) => Array.from({ length: n }, () => (encodeRow(plan, Array.from({ length: plan.inputSize }, () => r() * 2 - 1)) as { values: bigint[] }).values)
let e: CompiledContract
let m: CompiledContract

const localOf = (plan: Plan, compiled: CompiledContract, embedded: boolean, size?: number): LocalModel => {
  const blob = encodeWeights(plan)
  return { compiled, blob, sizes: chunkSizes(blob.length, size), commitment: commitmentOf(blob), embedded, layout: 'datacontract', file: 'model.json' }
}
/** The genuine runtime code with the initial owner (the session's account) in its immutable. */
const runtimeOf = (c: CompiledContract, owner: bigint = BigInt(s.account.address)) => withImmutables(c.deployedBytecode, c.immutables, owner)
/** How many of `rows` predict answers as the simulator does for `plan`. */
async function agreeing(address: Hex, c: CompiledContract, plan: Plan, rows: bigint[][]) {
  const out = await Promise.all(rows.map((row) => predictOf(s, address, c.abi, plan, row)))
  return out.filter((o, i) => o !== undefined && o.every((v, j) => v === simulate(plan, rows[i]!)[j])).length
}

beforeAll(async () => {
  e = compileSolidity(generateSolidity(E, { contractName: 'E', forward: false }), 'E')
  m = compileSolidity(generateSolidity(M, { contractName: 'M', embedWeights: false, chunkSize: CHUNK }), 'M')
  expect(chunkSizes(encodeWeights(M).length, CHUNK).length).toBeGreaterThanOrEqual(3)
  await ensureAdminLibrary(s)
})

describe('constructor-written storage', () => {
  test('control: the genuine runtime code through a forger\'s creation code, nothing else changed, verifies', async () => {
    const address = await deployRaw(s, creationCode(runtimeOf(e)))
    expect((await verifyModel(s, address, localOf(E, e, true), { configLabel: 't', expectedOwner: s.account.address })).problem).toBeUndefined()
  })

  test('(a) embedded weights, a forged code tail and a preset state word pointing at the genuine weights, balance 0: refused', async () => {
    const blob = encodeWeights(E)
    const genuineChunk = await dataContract(s, blob)
    // "version 2, ready, 1 chunk written, chunk 0 = a data contract of the genuine weights", stored XOR the mask
    const mask = stateMask({ kind: 0, embedded: true, chunks: 1 })
    const st = stateWord({ address: genuineChunk, version: 2, written: 1, ready: 1 }) ^ mask
    const address = await deployRaw(s, creationCode(withTail(runtimeOf(e), encodeWeights(negated(E))), [{ slot: 2n, value: st }]))
    expect(await s.publicClient.getBalance({ address })).toBe(0n)
    // the forgery is real: predict answers from the tail (other weights) on every row
    const rows = rowsOf(E, 12)
    expect(await agreeing(address, e, negated(E), rows)).toBe(rows.length)
    expect(await agreeing(address, e, E, rows)).toBeLessThan(rows.length)
    // the getters read what predict reads: with no wei, not the state word but the code's tail
    expect(await s.publicClient.readContract({ address, abi: e.abi, functionName: 'commitment' })).toBe(commitmentOf(encodeWeights(negated(E))))
    expect(await s.publicClient.readContract({ address, abi: e.abi, functionName: 'version' })).toBe(1n)
    const found = await verifyModel(s, address, localOf(E, e, true), { configLabel: 't', expectedOwner: s.account.address })
    expect(found.problem).toBeDefined()
    expect(found.problem!.check).toBe('state')
    expect(found.problem!.line).toMatch(/state word \(slot 2\) is 0x[0-9a-f]{64} while the balance is 0/)
  })

  test('(a\') a genuine tail and a preset state word naming other weights, balance 0: refused, since anyone can switch predict to it later by forcing 1 wei in', async () => {
    const forgedChunk = await dataContract(s, encodeWeights(negated(E)))
    const st = stateWord({ address: forgedChunk, version: 2, written: 1, ready: 1 }) ^ stateMask({ kind: 0, embedded: true, chunks: 1 })
    const address = await deployRaw(s, creationCode(runtimeOf(e), [{ slot: 2n, value: st }]))
    const rows = rowsOf(E, 8)
    // today it answers with the genuine tail, and its getters describe it
    expect(await agreeing(address, e, E, rows)).toBe(rows.length)
    expect(await s.publicClient.readContract({ address, abi: e.abi, functionName: 'commitment' })).toBe(commitmentOf(encodeWeights(E)))
    const found = await verifyModel(s, address, localOf(E, e, true), { configLabel: 't' })
    expect(found.problem?.check).toBe('state')
    // a stranger forces 1 wei in (SELFDESTRUCT, which nothing can refuse): predict now reads the preset word
    const force = compileSolidity(`// SPDX-License-Identifier: MIT\npragma solidity ^0.8.24;\ncontract Force { constructor(address payable to) payable { selfdestruct(to); } }\n`, 'Force')
    await sendTx(s, 'force wei', { data: concat([force.bytecode, toHex(BigInt(address), { size: 32 })]), value: 1n })
    expect(await agreeing(address, e, negated(E), rows)).toBe(rows.length)
  })

  test('(b) multi-chunk: the address table predict reads holds other chunks than the slots 3.. the getters read: refused', async () => {
    const blob = encodeWeights(M)
    const other = encodeWeights(negated(M))
    const sizes = chunkSizes(blob.length, CHUNK)
    const genuine: Hex[] = []
    const forged: Hex[] = []
    for (let i = 0, at = 0; i < sizes.length; at += sizes[i]!, i++) {
      genuine.push(await dataContract(s, blob.subarray(at, at + sizes[i]!)))
      forged.push(await dataContract(s, other.subarray(at, at + sizes[i]!)))
    }
    const table = await addressTable(s, [genuine[0]!, ...forged.slice(1)])
    const st = stateWord({ address: table, version: 1, tag: Number(BigInt(commitmentOf(blob)) >> 224n), written: sizes.length, ready: 1 })
    const writes = [{ slot: 2n, value: st }, ...genuine.slice(1).map((a, i) => ({ slot: BigInt(3 + i), value: BigInt(a) }))]
    const address = await deployRaw(s, creationCode(runtimeOf(m), writes))
    const rows = rowsOf(M, 12)
    expect(await agreeing(address, m, M, rows)).toBeLessThan(rows.length)
    // chunkAddress and the commitment read the table predict reads (not slots 3..): they show the other chunks
    expect(await s.publicClient.readContract({ address, abi: m.abi, functionName: 'chunkAddress', args: [1n] })).toBe(getAddress(forged[1]!))
    expect(await s.publicClient.readContract({ address, abi: m.abi, functionName: 'commitment' })).not.toBe(commitmentOf(blob))
    const found = await verifyModel(s, address, localOf(M, m, false, CHUNK), { configLabel: 't', expectedOwner: s.account.address })
    expect(found.problem).toBeDefined()
    expect(['commitment', 'chunk']).toContain(found.problem!.check)
    // and the same table with the genuine chunks everywhere verifies (the check is not just "a table was preset")
    const honest = await addressTable(s, genuine)
    const ok = await deployRaw(s, creationCode(runtimeOf(m), [{ slot: 2n, value: stateWord({ address: honest, version: 1, written: sizes.length, ready: 1 }) }]))
    expect(await agreeing(ok, m, M, rows)).toBe(rows.length)
    expect((await verifyModel(s, ok, localOf(M, m, false, CHUNK), { configLabel: 't' })).problem).toBeUndefined()
  })

  test('a version counter preset to 2^32−1: the next completed upload reverts VersionOverflow (a checked increment), one below it counts up', async () => {
    const blob = encodeWeights(M)
    const sizes = chunkSizes(blob.length, CHUNK)
    const genuine: Hex[] = []
    for (let i = 0, at = 0; i < sizes.length; at += sizes[i]!, i++) genuine.push(await dataContract(s, blob.subarray(at, at + sizes[i]!)))
    const table = await addressTable(s, genuine)
    const other = encodeWeights(negated(M))
    const upload = async (address: Hex) => {
      for (let i = 0, at = 0; i < sizes.length; at += sizes[i]!, i++) {
        const data = encodeFunctionData({ abi: m.abi, functionName: 'writeChunk', args: [BigInt(i), toHex(other.subarray(at, at + sizes[i]!)), commitmentOf(other)] })
        await sendTx(s, `chunk ${i}`, { to: address, data }, m.abi)
      }
    }
    const version = (address: Hex) => s.publicClient.readContract({ address, abi: m.abi, functionName: 'version' })
    for (const preset of [2 ** 32 - 2, 2 ** 32 - 1]) {
      const writes = [{ slot: 2n, value: stateWord({ address: table, version: preset, written: sizes.length, ready: 1 }) }, ...genuine.slice(1).map((a, i) => ({ slot: BigInt(3 + i), value: BigInt(a) }))]
      const address = await deployRaw(s, creationCode(runtimeOf(m), writes))
      expect(Number(await version(address))).toBe(preset)
      if (preset === 2 ** 32 - 2) {
        await upload(address)
        expect(Number(await version(address))).toBe(2 ** 32 - 1)
      } else {
        const message = await errorOf(upload(address))
        expect(message).toContain('VersionOverflow(4294967295)')
        expect(message).toContain('preset state')
      }
    }
  })

  test('(c) the initial-owner immutable with dirty upper bits: owner() shows P, P cannot act; refused, the message shows the full word', async () => {
    const P = s.account.address
    const dirty = (0xdeadn << 160n) | BigInt(P)
    const address = await deployRaw(s, creationCode(runtimeOf(e, dirty)))
    expect(getAddress(await s.publicClient.readContract({ address, abi: e.abi, functionName: 'owner' }) as Hex)).toBe(getAddress(P))
    const transfer = encodeFunctionData({ abi: e.abi, functionName: 'transferOwnership', args: [P] })
    expect(await errorOf(sendTx(s, 'transfer', { to: address, data: transfer }, e.abi))).toContain('NotOwner')
    const word = `0x${dirty.toString(16).padStart(64, '0')}`
    for (const opts of [{ expectedOwner: P }, { initialOwner: getAddress(P) }, {}]) {
      const found = await verifyModel(s, address, localOf(E, e, true), { configLabel: 't', ...opts })
      expect(found.problem?.check).toBe('owner')
      expect(found.problem!.line).toContain(word)
      expect(found.problem!.line).toMatch(/upper 96 bits are not zero/)
    }
  })

  test('(c) slot 0 (the owner) written with dirty upper bits by the constructor: refused', async () => {
    const P = BigInt(s.account.address)
    const address = await deployRaw(s, creationCode(runtimeOf(e), [{ slot: 0n, value: (1n << 200n) | P }]))
    expect(await errorOf(sendTx(s, 'transfer', { to: address, data: encodeFunctionData({ abi: e.abi, functionName: 'transferOwnership', args: [s.account.address] }) }, e.abi))).toContain('NotOwner')
    const found = await verifyModel(s, address, localOf(E, e, true), { configLabel: 't', expectedOwner: s.account.address })
    expect(found.problem?.check).toBe('owner')
    expect(found.problem!.line).toMatch(/^owner \(slot 0\) is 0x[0-9a-f]{64}: its upper 96 bits are not zero/)
  })

  test('(c) chain.owner that differs: both full addresses in the message', async () => {
    const other = getAddress(`0x${'12'.repeat(20)}`)
    const address = await deployRaw(s, creationCode(runtimeOf(e, BigInt(other))))
    const found = await verifyModel(s, address, localOf(E, e, true), { configLabel: 't', initialOwner: getAddress(s.account.address) })
    expect(found.problem?.line).toBe(`initial owner is ${other}, expected ${getAddress(s.account.address)} (chain.owner)`)
  })

  test('a code-layout model (no state to read) with a state word written by its constructor: refused', async () => {
    const c = compileSolidity(generateSolidity(E, { contractName: 'C', layout: 'code' }), 'C')
    const address = await deployRaw(s, creationCode(runtimeOf(c), [{ slot: 2n, value: 5n << 160n }]))
    const local: LocalModel = { ...localOf(E, c, false), layout: 'code' }
    const found = await verifyModel(s, address, local, { configLabel: 't' })
    expect(found.problem?.check).toBe('state')
    const ok = await deployRaw(s, creationCode(runtimeOf(c)))
    expect((await verifyModel(s, ok, local, { configLabel: 't' })).problem).toBeUndefined()
  })

  test("the input scale is a constant of the code (PARAMS): a plan with another inputFraction compiles to other code", () => {
    const other = compileSolidity(generateSolidity({ ...E, inputFraction: E.F - 3 }, { contractName: 'E', forward: false }), 'E')
    expect(other.deployedBytecode).not.toBe(e.deployedBytecode)
    expect(other.deployedBytecode.length).toBe(e.deployedBytecode.length)
  })
})

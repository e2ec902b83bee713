// The update mark (adminLibrary.ts): a model with embedded weights that has never held wei has never
// been updated, so its predict reads no state (a cold SLOAD saved). Checked here on chain:
// - while its balance is 0, predict reads no state; wei forced in by a stranger (a SELFDESTRUCT, which no
//   contract can refuse) only sends predict down the state-reading path: the same answers, ~2,100 more gas;
// - an update cannot land without the mark (UpdateNotMarked), so the embedded weights are never served
//   after they were replaced; ml2sc's uploader sends the mark (1 wei) with chunk 0, and then the new
//   weights are what predict answers with;
// - the rule (one, enforced by the admin library): exactly 1 wei, only with chunk 0, only for a model with
//   embedded weights whose balance is 0 (its first update); wei anywhere else is refused (UnexpectedValue):
//   predict, predictBatch, the admin functions, chunks after the first, a second update, a model without
//   embedded weights (other layouts included); the uploader and its cost estimate follow the same rule;
// - predict's argument is exactly bytes32[⌈rowBytes/32⌉], zero-padded: any other call data is BadCalldata.
import { beforeAll, describe, expect, test } from 'bun:test'
import { concat, encodeFunctionData, parseEther, toHex, type Abi, type Hex } from 'viem'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { deployModel } from '../../src/chain/deployModel.ts'
import { sendTx } from '../../src/chain/sendTx.ts'
import { estimateUploadGas } from '../../src/chain/uploadGas.ts'
import { needsMark, uploadWeights } from '../../src/chain/uploadWeights.ts'
import { UPDATE_MARK } from '../../src/codegen/admin/adminLibrary.ts'
import { ERRORS, selectorOf } from '../../src/codegen/admin/abiSignatures.ts'
import { embedsWeights, generateSolidity } from '../../src/codegen/generateSolidity.ts'
import { chunkSizes, commitmentOf, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { encodeRow, packRowWords, packRows } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import type { Plan } from '../../src/fixed/types.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { randomMlp } from '../helpers/randomMlp.ts'
import { rng } from '../helpers/rng.ts'
import { errorOf } from './helpers.ts'

let s: ChainSession
fileChain((c) => (s = c))

// an ML2SC-shaped 30-4-1 (ReLU, then one sigmoid output: the inline sigmoid) with random weights
const plan: Plan = makePlan(randomMlp([30, 4, 1], 7, { last: 'sigmoid' }), { fraction: 20, weightBytes: 2, inputBytes: 4 })
const r = rng(99)
const rows = Array.from({ length: 3 }, () => (encodeRow(plan, Array.from({ length: 30 }, () => r())) as { values: bigint[] }).values)
let abi: Abi
let bytecode: Hex

const predictData = (row: bigint[]) => encodeFunctionData({ abi, functionName: 'predict', args: [packRowWords(plan, row)] })
async function predict(address: Hex, row: bigint[]) {
  const data = predictData(row)
  const { data: ret } = await s.publicClient.call({ to: address, data })
  const gas = Number(await s.publicClient.estimateGas({ account: s.account, to: address, data }))
  return { out: BigInt.asIntN(256, BigInt('0x' + ret!.slice(2 + 128, 2 + 192))), gas }
}
/** Send `wei` to `to` the way no contract can refuse: a contract that SELFDESTRUCTs to it in its constructor. */
async function force(to: Hex, wei: bigint) {
  const c = compileSolidity(`// SPDX-License-Identifier: MIT\npragma solidity ^0.8.24;\ncontract Force { constructor(address payable to) payable { selfdestruct(to); } }\n`, 'Force')
  const data = concat([c.bytecode, toHex(BigInt(to), { size: 32 })])
  await sendTx(s, 'force wei', { data, value: wei } as never)
}

beforeAll(() => {
  expect(embedsWeights(plan)).toBe(true)
  const c = compileSolidity(generateSolidity(plan, { contractName: 'Mark', forward: false }), 'Mark')
  abi = c.abi
  bytecode = c.bytecode
})

describe('the update mark', () => {
  test('a model that never held wei reads no state; wei forced in costs predict the state read, not its answers', async () => {
    const { address } = await deployModel(s, bytecode, abi)
    expect(await s.publicClient.getBalance({ address })).toBe(0n)
    const before = await Promise.all(rows.map((row) => predict(address, row)))
    before.forEach((b, i) => expect(b.out).toBe(simulate(plan, rows[i]!)[0]!))
    await force(address, 1n)
    expect(await s.publicClient.getBalance({ address })).toBe(1n)
    const after = await Promise.all(rows.map((row) => predict(address, row)))
    after.forEach((a, i) => {
      expect(a.out).toBe(before[i]!.out)
      // the cold SLOAD of the state word (2,100) and its checks
      expect(a.gas - before[i]!.gas).toBeGreaterThanOrEqual(2_100)
      expect(a.gas - before[i]!.gas).toBeLessThan(2_300)
    })
  })

  test('an update cannot land without the mark; ml2sc sends it, and predict then answers with the new weights', async () => {
    const { address } = await deployModel(s, bytecode, abi)
    // other weights of the same shape and scales: the output layer's weights moved by 200 quanta
    const plan2: Plan = { ...plan, layers: plan.layers.map((l, k) => (k ? { ...l, weights: l.weights.map((w) => w.map((v) => v + 200n)) } : l)) }
    const blob2 = encodeWeights(plan2)
    expect(simulate(plan2, rows[0]!)[0]).not.toBe(simulate(plan, rows[0]!)[0])
    const write0 = { to: address, data: encodeFunctionData({ abi, functionName: 'writeChunk', args: [0n, toHex(blob2), commitmentOf(blob2)] }) }
    expect(await errorOf(sendTx(s, 'unmarked update', write0, abi))).toContain('UpdateNotMarked')
    expect(await errorOf(s.publicClient.call({ account: s.account, ...write0 }))).toContain(selectorOf(ERRORS.UpdateNotMarked).slice(2))
    // the weights are still the embedded ones, answered without a state read
    expect((await predict(address, rows[0]!)).out).toBe(simulate(plan, rows[0]!)[0]!)
    const txs = await uploadWeights(s, address, abi, blob2, chunkSizes(blob2.length))
    expect(txs).toHaveLength(1)
    expect(await s.publicClient.getBalance({ address })).toBe(UPDATE_MARK)
    for (const row of rows) expect((await predict(address, row)).out).toBe(simulate(plan2, row)[0]!)
  })

  test('wei is refused by predict, predictBatch and the admin functions (UnexpectedValue)', async () => {
    const { address } = await deployModel(s, bytecode, abi)
    const value = parseEther('0.001')
    const calls: Hex[] = [
      predictData(rows[0]!),
      encodeFunctionData({ abi, functionName: 'predictBatch', args: [packRows(plan, rows)] }),
      encodeFunctionData({ abi, functionName: 'transferOwnership', args: [s.account.address] }),
      encodeFunctionData({ abi, functionName: 'owner' }),
    ]
    for (const data of calls) expect(await errorOf(s.publicClient.call({ account: s.account, to: address, data, value }))).toContain(selectorOf(ERRORS.UnexpectedValue).slice(2))
    expect(await s.publicClient.getBalance({ address })).toBe(0n)
  })

  test('predict takes exactly bytes32[⌈rowBytes/32⌉], zero-padded: one byte more or less, or a byte in the padding, is BadCalldata', async () => {
    const { address } = await deployModel(s, bytecode, abi)
    const data = predictData(rows[0]!)
    expect((data.length - 2) / 2).toBe(4 + 32 * Math.ceil((30 * plan.inputBytes) / 32))
    // one byte short, one byte long, and a byte in the zero padding after the row (a row packed too long)
    const padded = `${data.slice(0, -2)}01` as Hex
    for (const bad of [data.slice(0, -2) as Hex, `${data}00` as Hex, padded]) expect(await errorOf(s.publicClient.call({ to: address, data: bad }))).toContain(selectorOf(ERRORS.BadCalldata).slice(2))
  })

  test('1 wei is taken only with chunk 0 of the first update of a model with embedded weights; the uploader sends it only then', async () => {
    const unexpected = selectorOf(ERRORS.UnexpectedValue).slice(2)
    const blob = encodeWeights(plan)
    const target = commitmentOf(blob)
    const write = (a: Abi, i: number, bytes: Uint8Array) => encodeFunctionData({ abi: a, functionName: 'writeChunk', args: [BigInt(i), toHex(bytes), target] })
    const call = (to: Hex, data: Hex, value: bigint) => errorOf(s.publicClient.call({ account: s.account, to, data, value }))
    // embedded, 3 chunks of 128 bytes: the mark lands with chunk 0; chunk 1 with 1 wei is refused
    const small = compileSolidity(generateSolidity(plan, { contractName: 'Small', chunkSize: 128, forward: false }), 'Small')
    const sizes = chunkSizes(blob.length, 128)
    expect(sizes.length).toBeGreaterThanOrEqual(3)
    const e = await deployModel(s, small.bytecode, small.abi)
    expect(await needsMark(s, e.address, write(small.abi, 0, blob.subarray(0, 128)))).toBe(true)
    await sendTx(s, 'chunk 0, marked', { to: e.address, data: write(small.abi, 0, blob.subarray(0, 128)), value: UPDATE_MARK }, small.abi)
    expect(await call(e.address, write(small.abi, 1, blob.subarray(128, 256)), 1n)).toContain(unexpected)
    // chunk 0 again (a restarted upload) on a model that holds the mark: refused with wei, taken without
    expect(await call(e.address, write(small.abi, 0, blob.subarray(0, 128)), 1n)).toContain(unexpected)
    expect(await needsMark(s, e.address, write(small.abi, 0, blob.subarray(0, 128)))).toBe(false)
    await uploadWeights(s, e.address, small.abi, blob, sizes)
    expect(await s.publicClient.getBalance({ address: e.address })).toBe(UPDATE_MARK)
    // a second update: no wei (refused with it); the uploader sends none
    const plan2: Plan = { ...plan, layers: plan.layers.map((l) => ({ ...l, weights: l.weights.map((w) => w.map((v) => -v)) })) }
    const blob2 = encodeWeights(plan2)
    expect(await call(e.address, encodeFunctionData({ abi: small.abi, functionName: 'writeChunk', args: [0n, toHex(blob2.subarray(0, 128)), commitmentOf(blob2)] }), 1n)).toContain(unexpected)
    await uploadWeights(s, e.address, small.abi, blob2, sizes)
    expect(await s.publicClient.getBalance({ address: e.address })).toBe(UPDATE_MARK)
    for (const row of rows) expect((await predict(e.address, row)).out).toBe(simulate(plan2, row)[0]!)

    // no embedded weights (datacontract uploaded, storage): wei refused on chunk 0 too; the uploader sends none
    for (const layout of ['datacontract', 'storage'] as const) {
      const c = compileSolidity(generateSolidity(plan, { contractName: 'Sep', layout, embedWeights: false }), 'Sep')
      const d = await deployModel(s, c.bytecode, c.abi)
      const n = chunkSizes(blob.length, layout === 'storage' ? 16_384 : undefined)
      expect(await call(d.address, write(c.abi, 0, blob.subarray(0, n[0]!)), 1n)).toContain(unexpected)
      expect(await needsMark(s, d.address, write(c.abi, 0, blob.subarray(0, n[0]!)))).toBe(false)
      await uploadWeights(s, d.address, c.abi, blob, n)
      expect(await s.publicClient.getBalance({ address: d.address })).toBe(0n)
    }
    // the cost estimate names the 1 wei only for a marked upload
    expect(estimateUploadGas(blob, sizes, small.abi).value).toBeUndefined()
    expect(estimateUploadGas(blob, sizes, small.abi, { mark: true }).value).toBe(UPDATE_MARK)
  })
})

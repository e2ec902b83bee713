// The update mark (adminLibrary.ts): a model with embedded weights that has never held wei has never
// been updated, so its predict reads no state (a cold SLOAD saved). Checked here on chain:
// - while its balance is 0, predict reads no state; wei forced in by a stranger (a SELFDESTRUCT, which no
//   contract can refuse) only sends predict down the state-reading path: the same answers, ~2,100 more gas;
// - an update cannot land without the mark (UpdateNotMarked), so the embedded weights are never served
//   after they were replaced; ml2sc's uploader sends the mark (1 wei) with chunk 0, and then the new
//   weights are what predict answers with;
// - wei is refused everywhere else (UnexpectedValue): predict, predictBatch, the admin functions;
// - predict's argument is exactly bytes32[⌈rowBytes/32⌉], zero-padded: any other call data is BadCalldata.
import { beforeAll, describe, expect, test } from 'bun:test'
import { concat, encodeFunctionData, parseEther, toHex, type Abi, type Hex } from 'viem'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { deployModel } from '../../src/chain/deployModel.ts'
import { sendTx } from '../../src/chain/sendTx.ts'
import { uploadWeights } from '../../src/chain/uploadWeights.ts'
import { UPDATE_MARK } from '../../src/codegen/adminLibrary.ts'
import { ERRORS, selectorOf } from '../../src/codegen/abiSignatures.ts'
import { embedsWeights, generateSolidity } from '../../src/codegen/generateSolidity.ts'
import { chunkSizes, commitmentOf, encodeWeights } from '../../src/codegen/weightBlob.ts'
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
  const c = compileSolidity(generateSolidity(plan, { contractName: 'Mark' }), 'Mark')
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
})

// Edges of the contract found by review, each sent as raw calldata / raw transactions:
// - predictBatch with a `bytes` length near 2^256, where `offset + length` wraps around: it must revert
//   BadCalldata, not "succeed" over zero rows and emit a Predictions event whose length word is absurd;
// - two owner-side uploads interleaved chunk by chunk: the contract must refuse to finish with mixed
//   chunks (CommitmentMismatch), stay not-ready, and accept a clean upload afterwards.
import { beforeAll, describe, expect, test } from 'bun:test'
import { concat, encodeFunctionData, toHex, type Abi, type Hex } from 'viem'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { deployModel } from '../../src/chain/deployModel.ts'
import { readModelState } from '../../src/chain/modelState.ts'
import { sendTx } from '../../src/chain/sendTx.ts'
import { uploadWeights } from '../../src/chain/uploadWeights.ts'
import { ERRORS, FUNCTIONS, selectorOf } from '../../src/codegen/admin/abiSignatures.ts'
import { generateSolidity } from '../../src/codegen/generateSolidity.ts'
import { chunkSizes, commitmentOf, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { loadConfig } from '../../src/config/loadConfig.ts'
import type { Plan } from '../../src/fixed/types.ts'
import { prepareModel } from '../../src/pipeline/prepareModel.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { errorOf, randomProject } from './helpers.ts'

const M = 1n << 256n
let s: ChainSession

async function planOf(sizes: number[], yaml = ''): Promise<Plan> {
  const p = randomProject({ sizes, seed: 5, yaml })
  return (await prepareModel(await loadConfig(p.config))).plan
}

fileChain((c) => (s = c))

describe('predictBatch: a length that wraps offset + length around 2^256', () => {
  let address: Hex
  let abi: Abi
  let wrapping: Hex
  let plan: Plan

  beforeAll(async () => {
    // 3 int8 inputs and one 3-byte output: rowBytes = output bytes per row, so the wrapped length also
    // wraps the output size to a few bytes short of 2^256, and nothing ran out of gas before the fix
    plan = await planOf([3, 4, 1], 'precision:\n  inputs: int8\n')
    const c = compileSolidity(generateSolidity(plan, { contractName: 'Edge', embedWeights: true }), 'Edge')
    abi = c.abi
    ;({ address } = await deployModel(s, c.bytecode, abi))
    const rowBytes = BigInt(plan.inputSize * plan.inputBytes)
    const outBytes = BigInt(plan.outputSize * plan.outputBytes)
    expect([rowBytes, outBytes]).toEqual([3n, 3n])
    // a length L = 2^256 - a that is a whole number of rows, with 0x44 + L wrapping to 0x44 - a ≤ calldatasize
    const a = [...Array(68).keys()].map((i) => BigInt(i + 1)).find((k) => (M - k) % rowBytes === 0n)!
    expect(a).toBeDefined()
    const row = toHex(new Uint8Array(Number(rowBytes)))
    wrapping = concat([selectorOf(FUNCTIONS.predictBatch) as Hex, toHex(32n, { size: 32 }), toHex(M - a, { size: 32 }), row])
  })

  test('as a call: reverts BadCalldata', async () => {
    expect(await errorOf(s.publicClient.call({ to: address, data: wrapping }))).toContain(selectorOf(ERRORS.BadCalldata))
  })

  test('as a mined transaction: reverts on chain with BadCalldata and emits no Predictions event', async () => {
    const err = await errorOf(sendTx(s, 'wrapping batch', { to: address, data: wrapping, gas: 1_000_000n }, abi))
    expect(err).toMatch(/BadCalldata/)
  })

  test('an honest one-row batch still answers', async () => {
    const ok = encodeFunctionData({ abi, functionName: 'predictBatch', args: [toHex(new Uint8Array(plan.inputSize * plan.inputBytes))] })
    const tx = await sendTx(s, 'honest batch', { to: address, data: ok }, abi)
    expect(tx.logs.length).toBe(1)
  })
})

describe('two uploads interleaved chunk by chunk', () => {
  const CHUNK = 64
  let address: Hex
  let abi: Abi
  let blobA: Uint8Array, blobB: Uint8Array
  let sizes: number[]
  const chunk = (b: Uint8Array, i: number) => toHex(b.subarray(i * CHUNK, i * CHUNK + sizes[i]!))
  /** Chunk i of blob `b`, naming `claimed`'s commitment (its own by default), as a mined transaction. */
  const write = (b: Uint8Array, i: number, label: string, claimed: Uint8Array = b) =>
    sendTx(s, label, { to: address, data: encodeFunctionData({ abi, functionName: 'writeChunk', args: [BigInt(i), chunk(b, i), commitmentOf(claimed)] }), gas: 3_000_000n }, abi)
  const state = () => readModelState(s, address, abi, { chunks: sizes.length })
  const tag = (b: Uint8Array) => commitmentOf(b).slice(0, 10)

  beforeAll(async () => {
    const planA = await planOf([8, 16, 3])
    blobA = encodeWeights(planA)
    // another upload: the contract does not read the bytes it is given, so B is A with every byte changed
    blobB = blobA.map((b) => b ^ 0x5a)
    expect(tag(blobA)).not.toBe(tag(blobB))
    sizes = chunkSizes(blobA.length, CHUNK)
    expect(sizes.length).toBeGreaterThanOrEqual(3)
    const c = compileSolidity(generateSolidity(planA, { contractName: 'Interleaved', chunkSize: CHUNK, embedWeights: false }), 'Interleaved')
    abi = c.abi
    ;({ address } = await deployModel(s, c.bytecode, abi))
  })

  test('A0 A1 … then chunk k+1 of B: refused at once (UploadInterleaved names both uploads); A’s chunks stay, not ready', async () => {
    const k = sizes.length - 2
    for (let i = 0; i <= k; i++) await write(blobA, i, `A chunk ${i}`)
    expect(await errorOf(write(blobB, k + 1, 'B chunk'))).toMatch(new RegExp(`UploadInterleaved\\(${tag(blobA)}, ${tag(blobB)}\\)`))
    const st = await state()
    expect([st.ready, st.chunksWritten]).toEqual([false, k + 1])
  })

  test('B’s chunk refused in the middle of A leaves A intact: A finishes and goes live with its own commitment', async () => {
    await write(blobA, 0, 'A chunk 0')
    await write(blobA, 1, 'A chunk 1')
    expect(await errorOf(write(blobB, 2, 'B chunk 2'))).toMatch(/UploadInterleaved/)
    for (let i = 2; i < sizes.length; i++) await write(blobA, i, `A chunk ${i}`)
    const st = await state()
    expect([st.ready, st.version, st.commitment]).toEqual([true, 1, commitmentOf(blobA)])
  })

  test('chunks of other bytes that name the same upload (a tag collision, a confused client) are caught at the last chunk: CommitmentMismatch', async () => {
    await write(blobB, 0, 'B chunk 0')
    for (let i = 1; i < sizes.length - 1; i++) await write(blobA, i, `A chunk ${i} claiming B`, blobB)
    expect(await errorOf(write(blobB, sizes.length - 1, 'B last chunk'))).toMatch(new RegExp(`CommitmentMismatch\\(${commitmentOf(blobB)}, 0x[0-9a-f]{64}\\)`))
    expect((await state()).ready).toBe(false)
  })

  test('an upload that resumes onto another upload’s chunks starts again from chunk 0 by itself and goes live', async () => {
    for (let i = 0; i < sizes.length - 1; i++) await write(blobA, i, `A chunk ${i}`)
    const notes: string[] = []
    // as a resumed upload would: only the last chunk is missing, but the chunks before it are another upload's
    const txs = await uploadWeights(s, address, abi, blobB, sizes, { from: sizes.length - 1, onResume: (_, note) => notes.push(note) })
    expect(notes).toEqual([expect.stringMatching(/another upload: starting again from chunk 1/)])
    expect(txs.length).toBe(sizes.length)
    const st = await state()
    expect([st.ready, st.version, st.commitment]).toEqual([true, 2, commitmentOf(blobB)])
  })
})

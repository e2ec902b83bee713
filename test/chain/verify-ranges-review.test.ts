// Review (item 2): verify ignores the embedded-weight bytes of the code once an update moved the weights
// to data contracts. It used to ignore EVERY place the blob's bytes occur in the compiled code: a model
// whose weights encode to a stretch of the inference code (the encoding is a bijection, so a publisher can
// choose such weights) let a forgery rewrite that code. Here the forgery turns predict's SELFBALANCE (the
// update-mark check) into CALLVALUE (always 0 there), so it always answers with the weights in its code
// tail (other weights), while commitment() hashes the data contracts: verify must refuse it.
import { beforeAll, describe, expect, test } from 'bun:test'
import { encodeFunctionData, keccak256, toHex, type Abi, type Hex } from 'viem'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { deployModel } from '../../src/chain/deployModel.ts'
import { uploadWeights } from '../../src/chain/uploadWeights.ts'
import { verifyModel, type LocalModel } from '../../src/chain/verifyModel.ts'
import { generateSolidity } from '../../src/codegen/generateSolidity.ts'
import { chunkSizes, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { compileSolidity, type CompiledContract } from '../../src/compile/compileSolidity.ts'
import { encodeRow, packRowWords } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import type { Plan } from '../../src/fixed/types.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { randomMlp } from '../helpers/randomMlp.ts'

let s: ChainSession
fileChain((c) => (s = c))

const plan: Plan = makePlan(randomMlp([30, 4, 1], 7, { last: 'sigmoid' }), { fraction: 20, weightBytes: 2, inputBytes: 4 })
const row = (encodeRow(plan, Array.from({ length: 30 }, (_, i) => (i % 7) / 7)) as { values: bigint[] }).values

const bytesOf = (h: Hex) => Uint8Array.from(Buffer.from(h.slice(2), 'hex'))
/** Offsets of the opcodes (not PUSH data) in runtime code. */
function opcodes(code: Uint8Array, end: number): number[] {
  const at: number[] = []
  for (let i = 0; i < end; i++) {
    at.push(i)
    if (code[i]! >= 0x60 && code[i]! <= 0x7f) i += code[i]! - 0x5f
  }
  return at
}

let genuine: CompiledContract
let chosen: CompiledContract
let S: Uint8Array
let markAt: number

beforeAll(() => {
  const src = generateSolidity(plan, { contractName: 'Chosen', forward: false })
  genuine = compileSolidity(src, 'Chosen')
  const blob = encodeWeights(plan)
  const L = blob.length
  const code = bytesOf(genuine.deployedBytecode)
  // the one SELFBALANCE in the model's code: the update-mark check
  const marks = opcodes(code, code.length - L).filter((i) => code[i] === 0x47)
  expect(marks).toHaveLength(1)
  markAt = marks[0]!
  const start = Math.max(0, markAt - 8)
  expect(start + L).toBeLessThanOrEqual(code.length - L)
  // the publisher's weights: they encode to the L bytes of code around the mark check
  S = code.slice(start, start + L)
  chosen = compileSolidity(src.replace(toHex(blob).slice(2), toHex(S).slice(2)), 'Chosen')
  // same code, but for the embedded weights at the tail
  expect(chosen.deployedBytecode.slice(0, -2 * L)).toBe(genuine.deployedBytecode.slice(0, -2 * L))
})

describe('verify: the ignored embedded-weight bytes', () => {
  test('a forgery that rewrites inference code where it happens to equal the weights, then updated to those weights: refused', async () => {
    const abi = chosen.abi as Abi
    const { address } = await deployModel(s, chosen.bytecode, abi)
    const onChain = bytesOf((await s.publicClient.getCode({ address }))!)
    const forged = onChain.slice()
    forged[markAt] = 0x34 // SELFBALANCE → CALLVALUE: predict never reads the state word
    forged.set(encodeWeights(plan), forged.length - S.length) // other weights in the tail
    await s.publicClient.request({ method: 'anvil_setCode' as 'eth_chainId', params: [address, toHex(forged)] as never })
    await uploadWeights(s, address, abi, S, chunkSizes(S.length))

    // the forgery answers with its tail weights; a genuine copy updated the same way answers with S
    const real = await deployModel(s, chosen.bytecode, abi)
    await uploadWeights(s, real.address, abi, S, chunkSizes(S.length))
    const data = encodeFunctionData({ abi, functionName: 'predict', args: [packRowWords(plan, row)] })
    const [a, b] = await Promise.all([address, real.address].map((to) => s.publicClient.call({ to, data })))
    expect(a!.data).not.toBe(b!.data)

    const local: LocalModel = { compiled: chosen, blob: S, sizes: chunkSizes(S.length), commitment: keccak256(S), embedded: true, layout: 'datacontract', file: 'chosen.json' }
    const found = await verifyModel(s, address, local, { configLabel: 'review' })
    expect(found.problem?.check).toBe('code')
    // the genuine copy, updated to the same weights, still passes
    expect((await verifyModel(s, real.address, local, { configLabel: 'review' })).problem).toBeUndefined()
  })
})

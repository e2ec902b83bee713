// Review (item 3): writeChunk took any amount of wei: wei sent by mistake (more than the 1-wei mark)
// stayed in the contract for good, since nothing ever sends wei out. Only the mark itself (1 wei) is taken now.
import { beforeAll, describe, expect, test } from 'bun:test'
import { encodeFunctionData, parseEther, toHex, type Abi, type Hex } from 'viem'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { deployModel } from '../../src/chain/deployModel.ts'
import { uploadWeights } from '../../src/chain/uploadWeights.ts'
import { UPDATE_MARK } from '../../src/codegen/admin/adminLibrary.ts'
import { ERRORS, selectorOf } from '../../src/codegen/admin/abiSignatures.ts'
import { generateSolidity } from '../../src/codegen/generateSolidity.ts'
import { chunkSizes, commitmentOf, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { randomMlp } from '../helpers/randomMlp.ts'
import { errorOf } from './helpers.ts'

let s: ChainSession
fileChain((c) => (s = c))

const plan = makePlan(randomMlp([8, 4, 2], 3, { last: 'relu' }), { fraction: 16, weightBytes: 2, inputBytes: 4 })
const blob = encodeWeights(plan)
const unexpected = selectorOf(ERRORS.UnexpectedValue).slice(2)
let embedded: { bytecode: Hex; abi: Abi }
let separate: { bytecode: Hex; abi: Abi }

beforeAll(() => {
  embedded = compileSolidity(generateSolidity(plan, { contractName: 'E', embedWeights: true }), 'E')
  separate = compileSolidity(generateSolidity(plan, { contractName: 'D', embedWeights: false }), 'D')
})

const write0 = (abi: Abi) => encodeFunctionData({ abi, functionName: 'writeChunk', args: [0n, toHex(blob), commitmentOf(blob)] })

describe('wei taken by writeChunk', () => {
  test('more than the 1-wei mark: UnexpectedValue, on models with and without embedded weights', async () => {
    const e = await deployModel(s, embedded.bytecode, embedded.abi)
    const d = await deployModel(s, separate.bytecode, separate.abi)
    for (const [to, abi, value] of [[e.address, embedded.abi, parseEther('1')], [e.address, embedded.abi, 2n], [d.address, separate.abi, 2n]] as const)
      expect(await errorOf(s.publicClient.call({ account: s.account, to, data: write0(abi), value }))).toContain(unexpected)
    // the mark itself still lands, and the uploads ml2sc sends still work on both
    await uploadWeights(s, e.address, embedded.abi, blob, chunkSizes(blob.length))
    await uploadWeights(s, d.address, separate.abi, blob, chunkSizes(blob.length))
    expect(await s.publicClient.getBalance({ address: e.address })).toBe(UPDATE_MARK)
  })
})

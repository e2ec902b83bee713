// An update with retrained weights: quantised at the deployed contract's scales and lanes (compiled into its
// code), so new weights of a different magnitude still go into the same contract; too-large ones are refused.
import { expect, test } from 'bun:test'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { deployModel } from '../../src/chain/deployModel.ts'
import { predictBatchTx } from '../../src/chain/evaluateOnChain.ts'
import { uploadWeights } from '../../src/chain/uploadWeights.ts'
import { verifyModel } from '../../src/chain/verifyModel.ts'
import { generateSolidity } from '../../src/codegen/generateSolidity.ts'
import { chunkSizes, commitmentOf, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { NumericsError } from '../../src/errors/base.ts'
import { encodeRow } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { pinOf } from '../../src/fixed/types.ts'
import type { ModelIR } from '../../src/ir/types.ts'
import { randomModel, randomRows } from '../../bench/measure.ts'
import { fileChain } from '../helpers/fileChain.ts'

const P = { fraction: 20, weightBytes: 2, inputBytes: 4 }
const scaled = (m: ModelIR, k: number): ModelIR => ({ ...m, layers: m.layers.map((l) => ({ ...l, weight: l.weight.map((r) => r.map((w) => w * k)), bias: l.bias.map((b) => b * k) })) })

let s: ChainSession
fileChain((c) => (s = c))

test('retrained weights (60% of the size) update the deployed contract; the chain equals the simulator', async () => {
  const before = randomModel([30, 4, 1], 'sigmoid', 21)
  const planA = makePlan(before, P)
  const c = compileSolidity(generateSolidity(planA, { contractName: 'U', embedWeights: false }), 'U')
  const { address } = await deployModel(s, c.bytecode, c.abi)
  const blobA = encodeWeights(planA)
  await uploadWeights(s, address, c.abi, blobA, chunkSizes(blobA.length))
  const atA = await s.publicClient.getBlockNumber({ cacheTime: 0 })

  const after = scaled(before, 0.6)
  // calibrated afresh, the retrained model would get other scales (another contract) ...
  expect(makePlan(after, P).layers.map((l) => l.wShift)).not.toEqual(planA.layers.map((l) => l.wShift))
  // ... pinned to the deployed plan, it fits the deployed code exactly
  const planB = makePlan(after, P, pinOf(planA))
  expect(compileSolidity(generateSolidity(planB, { contractName: 'U', embedWeights: false }), 'U').deployedBytecode).toBe(c.deployedBytecode)
  const blobB = encodeWeights(planB)
  await uploadWeights(s, address, c.abi, blobB, chunkSizes(blobB.length))
  expect(await s.publicClient.readContract({ address, abi: c.abi, functionName: 'commitment' })).toBe(commitmentOf(blobB))
  expect(await s.publicClient.readContract({ address, abi: c.abi, functionName: 'version' })).toBe(2n)
  const rows = randomRows(30, 30).map((f) => (encodeRow(planB, f) as { values: bigint[] }).values)
  const res = await predictBatchTx(s, address, c.abi, planB, rows, 'batch')
  res.outputs.forEach((o, i) => expect(o).toEqual(simulate(planB, rows[i]!)))

  // verify reads one state: at the head it proves B, pinned to the block before the update it proves A (and not B)
  const local = (blob: Uint8Array) => ({ compiled: c, blob, sizes: chunkSizes(blob.length), commitment: commitmentOf(blob), embedded: false, layout: 'datacontract' as const, file: 'm' })
  const head = await verifyModel(s, address, local(blobB), { configLabel: 't' })
  expect(head.problem).toBeUndefined()
  expect(head.block).toBe(await s.publicClient.getBlockNumber({ cacheTime: 0 }))
  expect((await verifyModel(s, address, local(blobA), { configLabel: 't', block: atA })).problem).toBeUndefined()
  const stale = await verifyModel(s, address, local(blobB), { configLabel: 't', block: atA })
  expect(stale.problem?.check).toBe('commitment')
  expect(stale.version).toBe(1)
})

test('retrained weights too large for the deployed scale are refused with a clear error', () => {
  const before = randomModel([30, 4, 1], 'sigmoid', 21)
  const planA = makePlan(before, P)
  expect(() => makePlan(scaled(before, 4), P, pinOf(planA))).toThrow(NumericsError)
  expect(() => makePlan(scaled(before, 4), P, pinOf(planA))).toThrow(/beyond what the deployed contract holds/)
})

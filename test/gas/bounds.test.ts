// Gas is deterministic: the targets, measured on a real anvil (EIP-7825 cap enforced) and asserted.
import { describe, expect, test } from 'bun:test'
import path from 'node:path'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { readAllRows } from '../../src/data/readCsv.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { measureMl2sc, measureOurs, randomModel, randomRows, type Measurement } from '../../bench/measure.ts'
import { ANCHORS } from '../helpers/paths.ts'
import { fileChain, TX_GAS_CAP } from '../helpers/fileChain.ts'
import { deployModel } from '../../src/chain/deployModel.ts'
import { predictBatchTx, predictSingle } from '../../src/chain/evaluateOnChain.ts'
import { uploadWeights } from '../../src/chain/uploadWeights.ts'
import { chunkSizeFor, generateSolidity } from '../../src/codegen/generateSolidity.ts'
import { chunkSizes, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { encodeRow } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'

const CAP = TX_GAS_CAP
let s: ChainSession
fileChain((c) => (s = c))

describe('gas bounds', () => {
  let ours: Measurement
  test('ML2SC 30-4-1, default config (a forwarding model): per row, one predict, update, deploy+upload; bit-exact', async () => {
    const data = await readAllRows(path.join(ANCHORS, 'processed_data.csv'), { label: 'diagnosis', drop: ['id'], limit: 50 })
    const model = await loadModel({ path: path.join(ANCHORS, 'weights/MLP_2L4.json'), source: path.join(ANCHORS, 'models.py'), class: 'MLP_2L4' })
    ours = await measureOurs(s, '30-4-1', model, data.features, 50)
    // issue 23: a small dense model with embedded weights is a forwarding model (forwardingModel.ts): the `code`
    // layout's PUSH-constant lane words for the initial weights (no blob in the code, no per-transaction pass),
    // an update installs a kernel contract that predict DELEGATECALLs. auto weighs its widths as for `code`:
    // int24 (int16 would spread the first layer's 4 lanes 64 bits apart: PUSH32 lane words)
    expect(ours.precision).toBe('int24 weights, uint16 inputs at 2^15')
    // the three targets (≤ 2,950 / ≤ 24,500 / ≤ 430,000): the `code` layout's kernel (2,829 / 23,582 /
    // 420,963) plus the admin forwarding before it and the forward to an update's kernel (40 bytes, +23 gas);
    // 3,010 / 25,712 / 463,084 with the blob in the code and its per-transaction lane-word pass (the test below)
    expect(ours.gasPerRow).toBeLessThanOrEqual(2_829)
    expect(ours.predictSingle).toBeLessThanOrEqual(23_605)
    expect(ours.deploy + ours.upload).toBeLessThanOrEqual(429_631)
    // an update deploys a kernel contract (1,494 bytes of runtime code ++ the 402-byte blob) from the admin
    // library: 495,404, against 151,576 for one data contract of the blob
    expect(ours.update!).toBeLessThanOrEqual(495_404)
    expect(ours.mismatches).toBe(0)
  })

  test('ML2SC 30-4-1, the blob in the code (`forward: false`, the default before forwarding models): per row, one predict, update, deploy+upload; bit-exact', async () => {
    const data = await readAllRows(path.join(ANCHORS, 'processed_data.csv'), { label: 'diagnosis', drop: ['id'], limit: 50 })
    const model = await loadModel({ path: path.join(ANCHORS, 'weights/MLP_2L4.json'), source: path.join(ANCHORS, 'models.py'), class: 'MLP_2L4' })
    const ours = await measureOurs(s, '30-4-1', model, data.features, 50, 'datacontract', undefined, { forward: false })
    // issue 18's fidelity gate (1% of the output's range on calibration rows) picks int24 weights for this
    // model, which issue 13's figures (int16) did not pay: 4 lanes of 48 bits, 2 lane words per packet.
    // Issue 23, per layer: the 30×4 layer passes the same gate at int16 (3 lane words per packet), the sigmoid head keeps int24
    expect(ours.precision).toBe('int16/int24 weights, uint16 inputs at 2^15')
    // issue 23: the once-per-transaction lane-word pass runs 3 packets per turn (26,410 and 3,064 before);
    // the last layer's lone packet reserves its 4 words, not 10 (25,932 before); lanes split biased, one
    // SHR and one AND each; per layer (int16 in the first layer): 3,054 / 25,913 / 476,721 at uniform int24 before both
    expect(ours.gasPerRow).toBeLessThanOrEqual(3_010)
    expect(ours.predictSingle).toBeLessThanOrEqual(25_712)
    // the admin library's checked version increment (VersionOverflow) costs the completing chunk 23 gas (172,499
    // before); measured 151,576 with the admin library's forwarding branches (forwardingModel.ts)
    expect(ours.update!).toBeLessThanOrEqual(151_576)
    // 464,188 before the pass's two extra packets (~70 bytes of code); 479,325 before custom errors were
    // written from byte 28 (2 bytes of code each); the biased lane split's field masks and biases are PUSHes.
    // 463,084 before model contracts were compiled without solc's constant optimizer (compileSolidity.ts's
    // MODEL_OPTIMIZER): its lane biases are literals again (PUSH7, not a 9-gas SHL each, per row) and its
    // optimizer's SUB → ADD of a negated constant stays a PUSH32: ~45 bytes more code, no more gas per row
    expect(ours.deploy + ours.upload).toBeLessThanOrEqual(472_941)
    expect(ours.mismatches).toBe(0)
  })

  test('ML2SC 30-4-1, code layout: lane words as PUSH constants (SUBtracted when negative, telescoped inputs); bit-exact', async () => {
    const data = await readAllRows(path.join(ANCHORS, 'processed_data.csv'), { label: 'diagnosis', drop: ['id'], limit: 50 })
    const model = await loadModel({ path: path.join(ANCHORS, 'weights/MLP_2L4.json'), source: path.join(ANCHORS, 'models.py'), class: 'MLP_2L4' })
    const m = await measureOurs(s, '30-4-1', model, data.features, 50, 'code')
    // per layer (issue 23): int16 would spread the first layer's 4 lanes 64 bits apart (PUSH32 in place of PUSH24
    // constants, +31,914 deploy), so with `code` auto keeps int24 there
    expect(m.precision).toBe('int24 weights, uint16 inputs at 2^15')
    // 2,960 / 23,837 / 440,752 before: no NOT per negative lane word, no mask per input;
    // 23,637 / 436,927 before the lanes were only as wide as the interval analysis proves (43 bits, not 48:
    // PUSH21 lane words, not PUSH23) and split biased
    expect(m.gasPerRow).toBeLessThanOrEqual(2_829)
    expect(m.predictSingle).toBeLessThanOrEqual(23_582)
    expect(m.deploy + m.upload).toBeLessThanOrEqual(420_963)
    expect(m.mismatches).toBe(0)
  })

  test('the ML2SC baseline layout costs what ML2SC costs, and we are > 40× cheaper per row', async () => {
    const data = await readAllRows(path.join(ANCHORS, 'processed_data.csv'), { label: 'diagnosis', drop: ['id'], limit: 50 })
    const model = await loadModel({ path: path.join(ANCHORS, 'weights/MLP_2L4.json'), source: path.join(ANCHORS, 'models.py'), class: 'MLP_2L4' })
    const base = await measureMl2sc(s, '30-4-1', model, data.features, 50)
    expect(base.upload / 124).toBeGreaterThan(20_000) // ML2SC: ~24.6k per uploaded weight
    expect(base.gasPerRow).toBeGreaterThan(150_000) // ML2SC re-measured: 262k with rows in storage
    expect(base.gasPerRow / ours.gasPerRow).toBeGreaterThan(40)
  })

  test('64-128-64-32-10: one predict ≤ 172,139; upload ≤ 1,000 gas per parameter', async () => {
    const m = await measureOurs(s, '64-128-64-32-10', randomModel([64, 128, 64, 32, 10], 'identity', 3), randomRows(8, 64), 8)
    expect(m.parameters).toBe(18_986)
    // the gate picks int16 weights and uint16 inputs on these random rows: 5 lanes of 48 bits;
    // issue 23: streamed groups' packets at constant addresses (247,542 before), then each lane word
    // and(mload(packet − shift/8), mask) with no SHR and no per-packet reassignment (240,510 before);
    // one EXTCODECOPY per group from its chunk's address, no copyRange call, lanes split biased, and the 64 inputs decoded one CALLDATALOAD per 32 bytes (184,700 before at uniform int16)
    // per layer: on its one calibration row (20% of 8) the middle layers pass the gate at int8, but not with half
    // the tolerance kept free for unseen rows (prepareModel.ts NARROW_MARGIN); 160,415 at int16/int8/int8/int16
    expect(m.precision).toBe('int16 weights, uint16 inputs at 2^15')
    expect(m.predictSingle).toBeLessThanOrEqual(172_139)
    expect(m.upload / m.parameters).toBeLessThanOrEqual(1_000)
    expect(m.mismatches).toBe(0)
  })

  test('64-128-64-32-10 at int8 weights and int16 inputs at 2^12 (the width its tolerance does not pick): one predict ≤ 118,888', async () => {
    const m = await measureOurs(s, '64-128-64-32-10 int8', randomModel([64, 128, 64, 32, 10], 'identity', 3), randomRows(8, 64), 8, 'datacontract', { weights: 'int8', inputs: 'int16', fraction: 12 })
    expect(m.precision).toBe('int8 weights, int16 inputs at 2^12')
    // issue 23 aims at ≤ 125,000 (130,248 before the biased lane split and one EXTCODECOPY per group)
    expect(m.predictSingle).toBeLessThanOrEqual(118_888)
    expect(m.mismatches).toBe(0)
  })

  test('784-128-10: uploads in batches and answers one predict in ONE transaction under the cap', async () => {
    const m = await measureOurs(s, '784-128-10', randomModel([784, 128, 10], 'identity', 5), randomRows(2, 784), 2)
    expect(m.parameters).toBe(101_770)
    expect(m.uploadTxs).toBeGreaterThan(1)
    expect(m.predictSingle).toBeLessThan(CAP)
    // the gate picks wider widths on these random rows than issue 13's int8 (571k then);
    // issue 23: streamed groups' packets at constant addresses (1,043,032 before), then no SHR per lane word (1,004,920 before),
    // then one EXTCODECOPY per group and lanes split biased (858,524 before)
    expect(m.precision).toBe('int16 weights, int32 inputs at 2^20')
    expect(m.predictSingle).toBeLessThanOrEqual(854_248)
    // a batch costs per row no more than one predict (the fused kernel per row, weights streamed per group)
    expect(m.gasPerRow).toBeLessThanOrEqual(m.predictSingle)
    expect(m.mismatches).toBe(0)
  })

  test('784-128-10 with int4 weights and uint8 inputs at 2^7 (fraction 12): one predict ≤ 339,415, equal to the simulator', async () => {
    const rows = randomRows(3, 784)
    const plan = makePlan(randomModel([784, 128, 10], 'identity', 5), { fraction: 12, weightBytes: 0.5, inputBytes: 1, inputFraction: 7, inputUnsigned: true })
    // 12 lanes of 20 bits in the first layer (5 of 48 at int16): two weights a byte, odd ones summed in acc4
    expect(plan.layers.map((l) => l.lanes)).toEqual([12, 9])
    const c = compileSolidity(generateSolidity(plan, { contractName: 'Int4', layout: 'datacontract' }), 'Int4')
    const { address } = await deployModel(s, c.bytecode, c.abi)
    const blob = encodeWeights(plan)
    // the blob holds about half a byte per weight (int16 needs two)
    expect(blob.length).toBeLessThan(0.55 * 101_770)
    await uploadWeights(s, address, c.abi, blob, chunkSizes(blob.length, chunkSizeFor('datacontract')))
    const q = rows.map((r) => encodeRow(plan, r)).map((e) => (e.ok ? e.values : []))
    const one = await predictSingle(s, address, c.abi, plan, q[0]!)
    expect(one.outputs).toEqual(simulate(plan, q[0]!))
    // issue 23: ≤ 380,000 aimed at (551,198 at int8 weights and int16 inputs before; 344,061 before the biased lane split)
    expect(one.tx.gasUsed).toBeLessThanOrEqual(339_415)
    const batch = await predictBatchTx(s, address, c.abi, plan, q, 'batch', BigInt(s.txGasCap))
    batch.outputs.forEach((o, i) => expect(o).toEqual(simulate(plan, q[i]!)))
  })
})

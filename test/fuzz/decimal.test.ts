// precision.decimals: a 10^d activation scale (PRBMath / ML2SC style). The contract and the simulator agree
// bit for bit on every activation, the activations stay within 1e-6, and PyTorch's classes are kept.
import { describe, expect, test } from 'bun:test'
import path from 'node:path'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { deployModel } from '../../src/chain/deployModel.ts'
import { predictBatchTx, predictSingle } from '../../src/chain/evaluateOnChain.ts'
import { uploadWeights } from '../../src/chain/uploadWeights.ts'
import { embedsWeights, generateSolidity } from '../../src/codegen/generateSolidity.ts'
import { chunkSizes, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { readAllRows } from '../../src/data/readCsv.ts'
import { sigmoidFixed, softmaxFixed, tanhFixed } from '../../src/fixed/activations.ts'
import { encodeRow, interpret } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { randomModel } from '../../bench/measure.ts'
import { opOf } from '../../src/ir/ops/index.ts'
import type { Activation } from '../../src/ir/types.ts'
import { ANCHORS } from '../helpers/paths.ts'
import { chain, NEW_OPS } from '../helpers/syntheticModels.ts'
import { rng } from '../helpers/rng.ts'
import { fileChain } from '../helpers/fileChain.ts'

const D18 = { fraction: 20, decimals: 18, weightBytes: 4, inputBytes: 16 }
let s: ChainSession
fileChain((c) => (s = c))

test('sigmoid, tanh and softmax at 10^18 stay within 1.5e-8 of the float functions (exp: table + degree-3 polynomial)', () => {
  const scale = 10n ** 18n
  let worst = 0
  for (let x = -40; x <= 40; x += 0.0137) {
    const y = BigInt(Math.round(x * 1e6)) * 10n ** 12n
    const xf = Number(y) / 1e18
    worst = Math.max(worst, Math.abs(Number(sigmoidFixed(y, scale)) / 1e18 - 1 / (1 + Math.exp(-xf))), Math.abs(Number(tanhFixed(y, scale)) / 1e18 - Math.tanh(xf)))
    const [p] = softmaxFixed([y, 0n], scale)
    worst = Math.max(worst, Math.abs(Number(p) / 1e18 - 1 / (1 + Math.exp(-xf))))
  }
  expect(worst).toBeLessThan(1.5e-8)
})

describe("issue 19's ops at 10^18", () => {
  const ops: Activation[] = [NEW_OPS[6]!, NEW_OPS[3]!, NEW_OPS[4]!, NEW_OPS[8]!, NEW_OPS[7]!, NEW_OPS[9]!, NEW_OPS[5]!, NEW_OPS[2]!, NEW_OPS[0]!]
  test('each twin within 1e-6 of its float function over [-30, 30]', () => {
    const scale = 10n ** 18n
    for (const a of ops) {
      const op = opOf(a)
      const c = { scale, slopeBits: 32 }
      const q = op.param?.(a, c) ?? 0n
      const ys: bigint[] = []
      for (let x = -30; x <= 30; x += 0.0173) ys.push(BigInt(Math.round(x * 1e6)) * 10n ** 12n)
      const got = op.fixed(ys, a, q, c)
      const want = op.float(ys.map((y) => Number(y) / 1e18), a)
      const worst = Math.max(...got.map((v, i) => Math.abs(Number(v) / 1e18 - want[i]!)))
      expect(worst, JSON.stringify(a)).toBeLessThan(1e-6)
    }
  })
  test('a chain of them (gelu, hardswish, elu, softplus, gelu tanh, mish, silu, hardsigmoid, relu6, log_softmax): chain = simulator', async () => {
    const model = chain(rng(3), [4, 6, 6, 6, 6, 6, 6, 6, 6, 6, 3], [...ops, NEW_OPS[10]!], { scale: 1.5 })
    const plan = makePlan(model, D18)
    const c = compileSolidity(generateSolidity(plan, { contractName: 'N' }), 'N')
    const { address } = await deployModel(s, c.bytecode, c.abi)
    const blob = encodeWeights(plan)
    if (!embedsWeights(plan)) await uploadWeights(s, address, c.abi, blob, chunkSizes(blob.length))
    const r = rng(9)
    const rows = Array.from({ length: 150 }, (_, i) => Array.from({ length: 4 }, () => (r() * 2 - 1) * (i % 3 === 0 ? 12 : 3)))
    const enc = rows.map((f) => encodeRow(plan, f)).filter((e) => e.ok).map((e) => (e as { values: bigint[] }).values)
    expect(enc.length).toBe(150)
    const res = await predictBatchTx(s, address, c.abi, plan, enc, 'batch', BigInt(s.txGasCap))
    res.outputs.forEach((o, i) => expect(o).toEqual(simulate(plan, enc[i]!)))
  })
})

describe('decimal scale on chain = simulator', () => {
  const kinds = ['sigmoid', 'tanh', 'softmax', 'identity'] as const
  for (const last of kinds) {
    test(`relu/leaky hidden layers, ${last} output, 10^18, int128 inputs`, async () => {
      const model = randomModel([6, 5, 4, last === 'sigmoid' ? 1 : 3], last === 'softmax' ? 'identity' : (last as 'sigmoid' | 'identity'), 11)
      if (last === 'softmax') model.layers[2]!.activation = { kind: 'softmax' }
      if (last === 'tanh') model.layers[2]!.activation = { kind: 'tanh' }
      model.layers[1]!.activation = { kind: 'leaky_relu', slope: 0.1 }
      const plan = makePlan(model, D18)
      expect(plan.scale).toBe(10n ** 18n)
      const c = compileSolidity(generateSolidity(plan, { contractName: 'D' }), 'D')
      const { address } = await deployModel(s, c.bytecode, c.abi)
      const blob = encodeWeights(plan)
      if (!embedsWeights(plan)) await uploadWeights(s, address, c.abi, blob, chunkSizes(blob.length))
      const r = rng(5)
      const rows = Array.from({ length: 120 }, (_, i) => Array.from({ length: 6 }, () => (r() * 2 - 1) * (i % 3 === 0 ? 15 : 2)))
      const enc = rows.map((f) => encodeRow(plan, f)).filter((e) => e.ok).map((e) => (e as { values: bigint[] }).values)
      expect(enc.length).toBe(120)
      const res = await predictBatchTx(s, address, c.abi, plan, enc, 'batch', BigInt(s.txGasCap))
      res.outputs.forEach((o, i) => expect(o).toEqual(simulate(plan, enc[i]!)))
      const one = await predictSingle(s, address, c.abi, plan, enc[0]!)
      expect(one.outputs).toEqual(simulate(plan, enc[0]!))
    })
  }
})

test("ML2SC's 30-4-1 at 18 decimals (as ML2SC computes): PyTorch's class on all 50 rows, on chain", async () => {
  const model = await loadModel({ path: path.join(ANCHORS, 'weights/MLP_2L4.json'), source: path.join(ANCHORS, 'models.py'), class: 'MLP_2L4' })
  const plan = makePlan(model, D18)
  const c = compileSolidity(generateSolidity(plan, { contractName: 'D18' }), 'D18')
  const { address } = await deployModel(s, c.bytecode, c.abi)
  const data = await readAllRows(path.join(ANCHORS, 'processed_data.csv'), { label: 'diagnosis', drop: ['id'], limit: 50 })
  const torch = (await Bun.file(path.join(ANCHORS, 'reference/MLP_2L4.outputs.csv')).text()).trim().split('\n').map(Number)
  const enc = data.features.map((f) => (encodeRow(plan, f) as { values: bigint[] }).values)
  const res = await predictBatchTx(s, address, c.abi, plan, enc, 'batch', BigInt(s.txGasCap))
  res.outputs.forEach((o, i) => {
    expect(interpret(plan, 'binary', o)).toBe(torch[i]! > 0.5 ? 1 : 0)
    expect(Math.abs(Number(o[0]) / 1e18 - torch[i]!)).toBeLessThan(1e-6)
  })
})

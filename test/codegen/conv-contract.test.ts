// Convolutional models through the real contract (generateSolidity, solc, anvil with the EIP-7825 cap,
// data-contract upload or embedded weights): predict and predictBatch equal the simulator bit for bit.
import { describe, expect, test } from 'bun:test'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { encodeRow } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import type { Plan } from '../../src/fixed/types.ts'
import { chunkSizeFor, generateSolidity, type WeightLayout } from '../../src/codegen/generateSolidity.ts'
import { chunkSizes, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { uploadWeights } from '../../src/chain/uploadWeights.ts'
import { pinOf } from '../../src/fixed/types.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { buildModel } from '../../src/ir/buildModel.ts'
import type { ArchStep, ModelIR, TensorMap } from '../../src/ir/types.ts'
import { deployCnn } from '../helpers/deployCnn.ts'
import { randomCnns } from '../helpers/randomCnn.ts'
import { rng } from '../helpers/rng.ts'
import { fileChain } from '../helpers/fileChain.ts'

let s: ChainSession
fileChain((c) => (s = c))

const rowsFor = (plan: Plan, n: number, seed: number) => {
  const r = rng(seed)
  return Array.from({ length: n }, () => {
    const e = encodeRow(plan, Array.from({ length: plan.inputSize }, () => r() * 4 - 2))
    if (!e.ok) throw new Error('row refused')
    return e.values
  })
}

async function checkModel(model: ModelIR, what: string, i: number, layout: WeightLayout, embed?: boolean) {
  const plan = makePlan(model, { fraction: 20, weightBytes: 2, inputBytes: 4 })
  const c = await deployCnn(s, plan, `Cnn${i}`, layout, embed)
  const rows = rowsFor(plan, 6, 100 + i)
  for (const row of rows.slice(0, 3)) expect((await c.predict(row)).map(String), `${what}: predict`).toEqual(simulate(plan, row).map(String))
  const res = await c.batch(rows)
  res.outputs.forEach((o, k) => expect(o.map(String), `${what}: predictBatch row ${k}`).toEqual(simulate(plan, rows[k]!).map(String)))
}

describe('convolutional models on chain = simulator', () => {
  // 7 of the first 24 random CNNs reach every feature the 24 do (randomCnn's `features`: 1-D and 2-D, one and
  // several input channels, stride, padding 1 and same, dilation, 1-wide kernels, depthwise (×1, ×2), no bias, BN,
  // two convs, every pool and none, a relu after the pool, every activation); the others only repeat them
  const models = randomCnns(24, 1)
  const CHOSEN = [1, 4, 8, 10, 12, 13, 15]
  test('7 random CNNs reaching every feature of the first 24 (1-D and 2-D, stride, padding incl. same, dilation, depthwise, BN, pools, every activation)', async () => {
    const features = (ms: typeof models) => [...new Set(ms.flatMap((m) => m.features))].sort()
    expect(features(CHOSEN.map((i) => models[i]!))).toEqual(features(models))
    expect(features(models).length).toBeGreaterThanOrEqual(28)
    // the layouts as the 24 had them: storage (4), weights uploaded to data contracts (12, 15), embedded (the rest)
    for (const i of CHOSEN) {
      const layout: WeightLayout = i % 5 === 4 ? 'storage' : 'datacontract'
      await checkModel(models[i]!.model, models[i]!.describe, i, layout, i % 3 === 0 ? false : undefined)
    }
  }, 900_000)

  test('4 random CNNs with inputs at their own scale (int16 at 2^12, uint16 at 2^15, layout storage): the first conv shifts from 2^(s+Fin) to 2^F', async () => {
    const ms = randomCnns(4, 500)
    for (let i = 0; i < ms.length; i++) {
      const unsigned = i % 2 === 1
      const plan = makePlan(ms[i]!.model, { fraction: 20, weightBytes: 2, inputBytes: 2, inputFraction: unsigned ? 15 : 12, ...(unsigned ? { inputUnsigned: true } : {}) })
      expect(plan.inputFraction).toBe(unsigned ? 15 : 12)
      const c = await deployCnn(s, plan, `CnnIn${i}`, i % 4 === 3 ? 'storage' : 'datacontract')
      const r = rng(700 + i)
      const rows = Array.from({ length: 5 }, () => (encodeRow(plan, Array.from({ length: plan.inputSize }, () => (unsigned ? r() * 1.99 : r() * 4 - 2))) as { values: bigint[] }).values)
      const res = await c.batch(rows)
      res.outputs.forEach((o, k) => expect(o.map(String), `${ms[i]!.describe}: row ${k}`).toEqual(simulate(plan, rows[k]!).map(String)))
    }
  }, 900_000)
})

describe('code size', () => {
  test('wide and deep CNNs stay under EIP-170 (the tap budget counts each lane group\'s own code)', () => {
    const r = rng(3)
    const t = (shape: number[]) => ({ shape, data: Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (r() * 2 - 1) * 0.3) })
    const shapes: [number[], number, number][] = [
      [[3, 16, 32, 64], 16, 3],
      [[1, 8, 8, 8, 8, 8, 8], 20, 3],
      [[2, 64, 64], 8, 1],
      [[1, 24, 48], 12, 5],
    ]
    for (const [chs, size, k] of shapes) {
      const tensors: TensorMap = new Map()
      const steps: ArchStep[] = []
      let side = size
      for (let i = 1; i < chs.length; i++) {
        tensors.set(`c${i}.weight`, t([chs[i]!, chs[i - 1]!, k, k]))
        tensors.set(`c${i}.bias`, t([chs[i]!]))
        const p = (k - 1) / 2
        steps.push({ op: 'conv', name: `c${i}`, dims: 2, padding: { begin: [p, p], end: [p, p] } }, { op: 'activation', activation: { kind: 'relu' } })
        if (side >= 4 && side % 2 === 0 && i % 2 === 1) (steps.push({ op: 'maxpool', dims: 2, kernel: [2, 2] }), (side /= 2))
      }
      tensors.set('fc.weight', t([10, chs[chs.length - 1]! * side * side]))
      tensors.set('fc.bias', t([10]))
      steps.push({ op: 'flatten' }, { op: 'linear', name: 'fc' })
      const plan = makePlan(buildModel(steps, tensors, 't', 't', [chs[0]!, size, size]), { fraction: 20, weightBytes: 2, inputBytes: 4 })
      const c = compileSolidity(generateSolidity(plan, { contractName: 'Size' }), 'Size')
      expect(c.runtimeBytes, JSON.stringify(chs)).toBeLessThanOrEqual(24_576)
    }
  }, 900_000)
})

describe('updates and layouts', () => {
  test('new weights at the deployed scales go live by an upload (the contract then equals the new plan); other scales are refused; layout code is refused', async () => {
    const { model } = randomCnns(1, 40)[0]!
    const precision = { fraction: 20, weightBytes: 2, inputBytes: 4 }
    const plan = makePlan(model, precision)
    const c = await deployCnn(s, plan, 'Upd', 'datacontract', false)
    // retrained weights: nudged so every layer keeps its scale
    const nudged: ModelIR = structuredClone(model)
    for (const l of nudged.tensorLayers ?? []) if (l.kind === 'conv') l.weight = l.weight.map((w, i) => (i % 3 ? w * 0.999 : w))
    for (const l of nudged.layers) l.weight = l.weight.map((row) => row.map((w, i) => (i % 2 ? w * 0.999 : w)))
    const plan2 = makePlan(nudged, precision, pinOf(plan))
    const blob2 = encodeWeights(plan2)
    expect(Buffer.from(blob2).equals(Buffer.from(encodeWeights(plan)))).toBe(false)
    await uploadWeights(s, c.address, c.compiled.abi, blob2, chunkSizes(blob2.length, chunkSizeFor('datacontract')))
    for (const row of rowsFor(plan2, 4, 7)) expect((await c.predict(row)).map(String)).toEqual(simulate(plan2, row).map(String))
    // weights twice as large do not fit the deployed conv scale: refused in one line
    const doubled: ModelIR = structuredClone(model)
    for (const l of doubled.tensorLayers ?? []) if (l.kind === 'conv') l.weight = l.weight.map((w) => w * 2)
    expect(() => makePlan(doubled, precision, pinOf(plan))).toThrow(/deployed contract/)
    expect(() => generateSolidity(plan, { contractName: 'X', layout: 'code' })).toThrow(/layout `code` is not available for convolutional models/)
  }, 900_000)
})

describe('larger windows', () => {
  test('global average pooling over a 14×14 map (196 values, a looped window) after a 16-channel conv equals the simulator', async () => {
    const r = rng(9)
    const t = (shape: number[]) => ({ shape, data: Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (r() * 2 - 1) * 0.3) })
    const tensors: TensorMap = new Map([['c1.weight', t([16, 1, 3, 3])], ['c1.bias', t([16])], ['c2.weight', t([6, 16, 3, 3])], ['c2.bias', t([6])], ['fc.weight', t([3, 6])], ['fc.bias', t([3])]])
    const steps: ArchStep[] = [
      { op: 'conv', name: 'c1', dims: 2, padding: { begin: [1, 1], end: [1, 1] } },
      { op: 'activation', activation: { kind: 'relu' } },
      { op: 'conv', name: 'c2', dims: 2 },
      { op: 'activation', activation: { kind: 'tanh' } },
      { op: 'globalavgpool' },
      { op: 'flatten' },
      { op: 'linear', name: 'fc' },
    ]
    const plan = makePlan(buildModel(steps, tensors, 't', 't', [1, 16, 16]), { fraction: 20, weightBytes: 2, inputBytes: 4 })
    const c = await deployCnn(s, plan, 'Gap')
    for (const row of rowsFor(plan, 3, 11)) expect((await c.predict(row)).map(String)).toEqual(simulate(plan, row).map(String))
  }, 900_000)
})

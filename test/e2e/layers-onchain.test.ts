// Issue 19 (layers part) on a real anvil: nn.Embedding columns, custom residual blocks with constructor
// flags, ceil_mode and adaptive pools, from the fixtures real PyTorch made (scripts/make-layer-fixtures.py).
// Each model's contract answers every test row exactly as the simulator does (bit for bit) and within
// float32 noise of PyTorch's own outputs; a row whose categorical feature is not a category index is
// refused on chain with BadCategory(row, feature, value).
import { describe, expect, test } from 'bun:test'
import path from 'node:path'
import { decodeErrorResult, encodeFunctionData, type Hex } from 'viem'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import { encodeRow, packRows } from '../../src/fixed/encodeRows.ts'
import { inputScaleOf, type Plan } from '../../src/fixed/types.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import type { ModelIR } from '../../src/ir/types.ts'
import { deployCnn } from '../helpers/deployCnn.ts'
import { kernelOf } from '../../src/codegen/dense/memoryMap.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { readCsv } from '../model/helpers.ts'

const LAYERS = path.join(FIXTURES, 'layers')
const PRECISION = { fraction: 20, weightBytes: 3, inputBytes: 4 }
let s: ChainSession
fileChain((x) => (s = x))

type File = 'model.state_dict.pt' | 'model.onnx' | 'model.whole.pt'
async function load(name: string, file: File, inputShape?: number[]): Promise<ModelIR> {
  const d = path.join(LAYERS, name)
  return await loadModel({ path: path.join(d, file), ...(file === 'model.state_dict.pt' ? { source: path.join(d, 'model.py') } : {}), ...(inputShape ? { inputShape } : {}) } as Parameters<typeof loadModel>[0])
}

/** The chain's outputs for every test row (one predictBatch) against the simulator and PyTorch. */
async function checkFixture(name: string, file: File, inputShape?: number[]) {
  const model = await load(name, file, inputShape)
  const plan = makePlan(model, PRECISION)
  const rows = readCsv(path.join(LAYERS, name, 'test.csv')).rows.map((r) => r.slice(0, -1))
  const ref = readCsv(path.join(LAYERS, name, 'reference.csv')).rows.map((r) => r.slice(1))
  const q = rows.map((r) => {
    const e = encodeRow(plan, r)
    if (!e.ok) throw new Error(e.error)
    return e.values
  })
  const { batch } = await deployCnn(s, plan, `L_${name}`)
  const chain = (await batch(q)).outputs
  let mismatches = 0
  let worst = 0
  let floatWorst = 0
  q.forEach((row, i) => {
    const sim = simulate(plan, row)
    if (sim.some((v, j) => v !== chain[i]![j])) mismatches++
    chain[i]!.forEach((v, j) => (worst = Math.max(worst, Math.abs(Number(v) / Number(plan.scale) - ref[i]![j]!))))
    referenceForward(model, rows[i]!).forEach((v, j) => (floatWorst = Math.max(floatWorst, Math.abs(v - ref[i]![j]!))))
  })
  return { model, plan, mismatches, worst, floatWorst, rows: q.length }
}

describe('layers on chain (real PyTorch fixtures): chain = simulator, close to PyTorch', () => {
  test('nn.Embedding columns (model.py and ONNX): folded and gathered, exact to the simulator; PyTorch within 1e-4', async () => {
    for (const file of ['model.state_dict.pt', 'model.onnx'] as const) {
      const r = await checkFixture('embed_wine', file)
      expect(r.model.categorical).toEqual([
        { column: 0, count: 6, name: 'emb_a' },
        { column: 1, count: 4, name: 'emb_b' },
      ])
      expect(r.plan.layers[0]!.nIn).toBe(6 + 4 + 11)
      expect(r.mismatches).toBe(0)
      expect(r.floatWorst).toBeLessThan(1e-5)
      expect(r.worst).toBeLessThan(1e-4)
    }
  })

  test('custom residual blocks with constructor flags (model.py), ceil_mode and adaptive pools (model.py, ONNX)', async () => {
    for (const [name, file, shape] of [
      ['block_wine', 'model.state_dict.pt', undefined],
      ['pools_digits', 'model.state_dict.pt', [1, 8, 8]],
      ['pools_digits', 'model.onnx', undefined],
      ['adaptive_digits', 'model.state_dict.pt', [1, 8, 8]],
      ['pools_signal', 'model.state_dict.pt', [1, 64]],
      ['pools_seq', 'model.whole.pt', [1, 8, 8]],
    ] as const) {
      const r = await checkFixture(name, file, shape ? [...shape] : undefined)
      expect(`${name} ${file}: ${r.mismatches} mismatches`).toBe(`${name} ${file}: 0 mismatches`)
      expect(r.floatWorst).toBeLessThan(1e-5)
      expect(r.worst).toBeLessThan(1e-3)
    }
  })

  test('a categorical feature that is not a category index reverts BadCategory(row, feature, value); the encoder refuses it in one line', async () => {
    const model = await load('embed_wine', 'model.state_dict.pt')
    const plan = makePlan(model, PRECISION)
    const { compiled, address } = await deployCnn(s, plan, 'L_embed_bad', 'code')
    const row = readCsv(path.join(LAYERS, 'embed_wine', 'test.csv')).rows[0]!.slice(0, -1)
    const good = (encodeRow(plan, row) as { values: bigint[] }).values
    const S = inputScaleOf(plan)
    const revertOf = async (rows: bigint[][]) => {
      const data = encodeFunctionData({ abi: compiled.abi, functionName: 'predictBatch', args: [packRows(plan, rows)] })
      try {
        await s.publicClient.call({ account: s.account, to: address, data })
      } catch (e) {
        const raw = (e as { walk: (f: (x: unknown) => boolean) => { data?: Hex } | null }).walk((x) => typeof (x as { data?: unknown }).data === 'string')?.data
        const d = decodeErrorResult({ abi: compiled.abi, data: raw! })
        return [d.errorName, ...(d.args ?? [])]
      }
      return undefined
    }
    expect(await revertOf([good, good])).toBeUndefined()
    // index 6 of a 6-category embedding, in the third row of the batch
    expect(await revertOf([good, good, [6n * S, ...good.slice(1)]])).toEqual(['BadCategory', 2n, 0n, 6n * S])
    // half a category, and a negative index, in column 1
    expect(await revertOf([[good[0]!, S / 2n, ...good.slice(2)]])).toEqual(['BadCategory', 0n, 1n, S / 2n])
    expect(await revertOf([[good[0]!, -S, ...good.slice(2)]])).toEqual(['BadCategory', 0n, 1n, -S])
    // off chain: the encoder and the simulator refuse the same rows
    expect(encodeRow(plan, [6, ...row.slice(1)])).toEqual({ ok: false, error: "feature 0 = 6 is not a category index of embedding 'emb_a' (a whole number from 0 to 5)" })
    expect(encodeRow(plan, [row[0]!, 1.5, ...row.slice(2)])).toMatchObject({ ok: false })
    expect(() => simulate(plan, [6n * S, ...good.slice(1)])).toThrow(/BadCategory/)
  })

  test('the fused kernel (a wide first layer) and the storage layout expand categories the same way', async () => {
    // a synthetic tabular model: columns 0 and 2 categorical (5 and 3 categories), 256 hidden units
    const cats = [
      { column: 0, count: 5, name: 'e0' },
      { column: 2, count: 3, name: 'e2' },
    ]
    const nIn = 5 + 1 + 3 + 3
    const w = (o: number, i: number) => Math.sin(o * 7.1 + i * 3.3) * 0.4
    const model: ModelIR = {
      format: 'synthetic',
      inputSize: 6,
      categorical: cats,
      layers: [
        { name: 'fc1', weight: Array.from({ length: 256 }, (_, o) => Array.from({ length: nIn }, (_, i) => w(o, i))), bias: Array.from({ length: 256 }, (_, o) => 0.01 * (o % 7)), activation: { kind: 'relu' } },
        { name: 'out', weight: Array.from({ length: 3 }, (_, o) => Array.from({ length: 256 }, (_, i) => w(o + 300, i) * 0.1)), bias: [0, 0.1, -0.1], activation: { kind: 'identity' } },
      ],
    }
    const plan: Plan = makePlan(model, PRECISION)
    expect(kernelOf(plan, { layout: 'datacontract', embedded: true }).mode).toBe('fused')
    const rows = Array.from({ length: 12 }, (_, k) => [k % 5, 0.3 * k - 1, k % 3, -0.2 * k, 0.5, 1 - 0.1 * k])
    const q = rows.map((r) => (encodeRow(plan, r) as { values: bigint[] }).values)
    for (const layout of ['datacontract', 'storage'] as const) {
      const { batch } = await deployCnn(s, plan, `L_wide_${layout}`, layout)
      const chain = (await batch(q)).outputs
      q.forEach((row, i) => expect(chain[i]).toEqual(simulate(plan, row)))
      // the float reference reads the same one-hot expansion
      rows.forEach((r, i) => referenceForward(model, r).forEach((v, j) => expect(Math.abs(v - Number(chain[i]![j]) / Number(plan.scale))).toBeLessThan(1e-4)))
    }
  })
})

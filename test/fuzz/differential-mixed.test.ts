// Differential fuzzing of per-layer weight widths (issue 23, mixed precision): random MLPs and CNNs whose
// weighted layers each get a random width (int4 … int32 for dense layers, int8 … int32 for convs), on every
// layout and dense kernel (packed, fused, streamed, PUSH32 constants): the contract (real solc, real anvil,
// predictBatch transactions and single predict calls) against the simulator, bit for bit.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { decodeAbiParameters, encodeFunctionData } from 'viem'
import { connectChain, type ChainSession } from '../../src/chain/connectChain.ts'
import { measureBatchGas, predictBatchTx } from '../../src/chain/evaluateOnChain.ts'
import { kernelOf } from '../../src/codegen/dense/memoryMap.ts'
import { type WeightLayout } from '../../src/codegen/generateSolidity.ts'
import { blobLayout } from '../../src/codegen/weights/weightBlob.ts'
import { encodeRow, packRowWords } from '../../src/fixed/encodeRows.ts'
import { makePlan, weightedLayerNames } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { simulateBatch } from '../../src/fixed/simulateBatch.ts'
import { isMixedWidth, weightWidthsOf, type PrecisionSpec } from '../../src/fixed/types.ts'
import type { ModelIR } from '../../src/ir/types.ts'
import { randomCnns } from '../helpers/randomCnn.ts'
import { deployPlan } from '../helpers/deployPlan.ts'
import { rng } from '../helpers/rng.ts'
import { edgeRows, KINDS, makeRow } from '../helpers/fuzzRows.ts'
import { A, chain } from '../helpers/syntheticModels.ts'

const TX_GAS_CAP = 16_777_216
const DENSE_WIDTHS = [0.5, 1, 2, 3, 4]
const CONV_WIDTHS = [1, 2, 3, 4]

type Case = { name: string; model: ModelIR; precision: PrecisionSpec; rows: number; layout?: WeightLayout; embed?: boolean; chunkSize?: number; spread?: number }

/** Random widths, one per weighted layer, drawn until they differ (a mixed plan). */
function widthsFor(r: () => number, model: ModelIR): number[] {
  const nConv = weightedLayerNames(model).length - model.layers.length
  const dense = model.tensorLayers?.length ? CONV_WIDTHS : DENSE_WIDTHS
  for (;;) {
    const w = [...Array.from({ length: nConv }, () => CONV_WIDTHS[Math.floor(r() * CONV_WIDTHS.length)]!), ...model.layers.map(() => dense[Math.floor(r() * dense.length)]!)]
    if (new Set(w).size > 1) return w
  }
}

const r = rng(2323)
const mixed = (model: ModelIR, base: Omit<PrecisionSpec, 'weightBytes'>): PrecisionSpec => {
  const layerWeightBytes = widthsFor(r, model)
  return { ...base, weightBytes: Math.max(...layerWeightBytes), layerWeightBytes }
}
const P = { fraction: 20, inputBytes: 4 }
const Q = { fraction: 12, inputBytes: 2, inputFraction: 10 }

/** An MLP case: a random chain of these sizes and activations, random widths per layer. */
const mlp = (name: string, sizes: number[], acts: Parameters<typeof chain>[2], base: Omit<PrecisionSpec, 'weightBytes'>, o: Partial<Case> = {}): Case => {
  const model = chain(r, sizes, acts)
  return { name: `${name} ${sizes.join('-')}`, model, precision: mixed(model, base), rows: 150, ...o }
}

const CASES: Case[] = [
  mlp('packed', [13, 24, 16, 5], [A.relu, A.tanh, A.softmax], P),
  mlp('packed, int16 inputs at 2^10', [30, 12, 8, 1], [A.relu, A.relu, A.sigmoid], Q, { embed: false }),
  mlp('fused and streamed, 3 data contracts', [400, 24, 10], [A.relu, A.identity], Q, { rows: 60, chunkSize: 2500 }),
  mlp('packed, whole blob', [120, 64, 32, 10], [A.relu, A.relu, A.identity], Q, { rows: 80, embed: false }),
  mlp('layout code', [9, 11, 7, 3], [A.relu, A.leaky(0.1), A.identity], P, { layout: 'code' }),
  mlp('fused, layout storage', [200, 40, 6, 2], [A.tanh, A.relu, A.identity], P, { rows: 80, layout: 'storage' }),
  // CNNs: weights in code, uploaded to data contracts, in storage
  ...randomCnns(3, 2323).map(({ model, describe }, i): Case => ({ name: `CNN ${describe}`, model, precision: mixed(model, i % 2 ? P : { fraction: 16, inputBytes: 2, inputFraction: 12 }), rows: 60, ...(i === 2 ? { layout: 'storage' as const } : i === 1 ? { embed: false } : {}) })),
]

let s: ChainSession
const totals = { rows: 0, mismatches: 0, models: 0, kernels: new Set<string>(), widths: new Set<number>() }
beforeAll(async () => {
  s = await connectChain({ hardfork: 'prague', txGasCap: TX_GAS_CAP, blockGasLimit: 30_000_000 })
})
afterAll(async () => await s?.close())

describe('differential fuzzing of per-layer weight widths: chain vs simulator, bit for bit', () => {
  CASES.forEach((c, ci) => {
    test(`${c.name}, widths ${c.precision.layerWeightBytes!.map((b) => `int${8 * b}`).join('/')}`, async () => {
      const plan = makePlan(c.model, c.precision)
      expect(isMixedWidth(plan)).toBe(true)
      expect(weightWidthsOf(plan)).toEqual(c.precision.layerWeightBytes!)
      // a narrower layer stores fewer bytes: the blob is not the uniform widest plan's
      if (!plan.tensorLayers?.length) expect(blobLayout(plan).length).toBeLessThan(blobLayout(makePlan(c.model, { ...c.precision, layerWeightBytes: undefined })).length)
      const { compiled, address, layout, embedded } = await deployPlan(s, plan, { name: `Mixed${ci}`, layout: c.layout, chunkSize: c.chunkSize, embed: c.embed })
      if (!plan.tensorLayers?.length) {
        const k = kernelOf(plan, { layout, embedded: layout === 'datacontract' && embedded })
        totals.kernels.add(k.mode + (k.streams ? ' streamed' : ''))
      } else totals.kernels.add('conv')
      for (const w of c.precision.layerWeightBytes!) totals.widths.add(w)

      const rr = rng(5000 + ci)
      const good: bigint[][] = []
      for (let i = 0; good.length < c.rows && i < 4 * c.rows; i++) {
        const enc = encodeRow(plan, makeRow(rr, plan, KINDS[i % KINDS.length]!, c.spread ?? 4))
        if (enc.ok) good.push(enc.values)
      }
      good.push(...edgeRows(rr, plan))
      const m = await measureBatchGas(s, address, compiled.abi, plan, [good[0]!, good[1]!])
      const perTx = Math.max(1, Math.floor((TX_GAS_CAP * 0.7 - m.fixed) / m.perRow))
      let mismatches = 0
      let first = ''
      for (let at = 0; at < good.length; at += perTx) {
        const batch = good.slice(at, at + perTx)
        const res = await predictBatchTx(s, address, compiled.abi, plan, batch, `mixed fuzz ${c.name}`, BigInt(s.txGasCap))
        const sims = simulateBatch(plan, batch)
        res.outputs.forEach((onchain, k) => {
          if (onchain.length !== sims[k]!.length || onchain.some((v, j) => v !== sims[k]![j])) {
            mismatches++
            first ||= `row [${batch[k]!.join(', ')}]: chain [${onchain.join(', ')}] vs simulator [${sims[k]!.join(', ')}]`
          }
        })
      }
      // single rows take other code paths (a large model's single row skips the packing pass)
      for (const row of [...good.slice(0, 10), ...good.slice(-10)]) {
        const data = encodeFunctionData({ abi: compiled.abi, functionName: 'predict', args: [packRowWords(plan, row)] })
        const { data: ret } = await s.publicClient.call({ account: s.account, to: address, data })
        const [out] = decodeAbiParameters([{ type: 'int256[]' }], ret!)
        const sim = simulate(plan, row)
        if (out.length !== sim.length || out.some((v, j) => v !== sim[j])) {
          mismatches++
          first ||= `predict(row [${row.join(', ')}]): chain [${out.join(', ')}] vs simulator [${sim.join(', ')}]`
        }
      }
      totals.rows += good.length
      totals.mismatches += mismatches
      totals.models++
      expect(first).toBe('')
      expect(mismatches).toBe(0)
    })
  })

  test('coverage: every case, 0 mismatches, every dense kernel, convs, int4 … int32 in one plan', () => {
    console.log(`mixed-width differential fuzzing: ${totals.rows} rows over ${totals.models} models, ${totals.mismatches} mismatches; kernels ${[...totals.kernels].sort().join(', ')}`)
    expect(totals.models).toBe(CASES.length)
    expect(totals.mismatches).toBe(0)
    expect([...totals.kernels].sort()).toEqual(['code', 'conv', 'fused', 'fused streamed', 'packed'])
    expect([...totals.widths].sort()).toEqual([0.5, 1, 2, 3, 4])
  })
})

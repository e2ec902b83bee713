// Differential fuzz of the nn.Embedding gather: random models with categorical columns (few and many
// categories, numeric columns or none, one lane or several, lane groups of two shapes), on every kernel
// (packed, fused, fused and streamed from several data contracts, the storage layout, the code layout's
// binary search over constants), binary and decimal scales, signed and unsigned inputs, int4 weights (nibble
// fields, odd and even): the contract (real solc, real anvil,
// predictBatch transactions (two or more a case) and single predicts) against the bit-exact simulator, 0 mismatches.
import { describe, expect, test } from 'bun:test'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { embedsWeights, type WeightLayout } from '../../src/codegen/generateSolidity.ts'
import { kernelOf } from '../../src/codegen/dense/memoryMap.ts'
import { blobLayout } from '../../src/codegen/weights/weightBlob.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import type { PrecisionSpec } from '../../src/fixed/types.ts'
import { deployCnn } from '../helpers/deployCnn.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { randomEmbeddingModel, randomEmbeddingRows, type EmbeddingSpec } from '../helpers/randomEmbedding.ts'
import { A } from '../helpers/syntheticModels.ts'

let s: ChainSession
fileChain((c) => (s = c))

type Case = { name: string; spec: EmbeddingSpec; precision: PrecisionSpec; layout?: WeightLayout; embed?: boolean; chunkSize?: number; rows: number; batch: number; kernel: string }
const P = (fraction: number, weightBytes: number, inputBytes: number, more: Partial<PrecisionSpec> = {}): PrecisionSpec => ({ fraction, weightBytes, inputBytes, ...more })

const CASES: Case[] = [
  { name: 'the bench shape: 2 categorical (6, 4) + 11 numeric → 16 relu → 3, int8 weights, int24 inputs at 2^19', spec: { inputs: 13, cats: [[0, 6], [1, 4]], sizes: [16, 3], acts: [A.relu, A.identity] }, precision: P(20, 1, 3, { inputFraction: 19 }), rows: 200, batch: 100, kernel: 'packed' },
  { name: '50 categories + 8 numeric → 24 tanh → 3 softmax', spec: { inputs: 9, cats: [[4, 50]], sizes: [24, 3], acts: [A.tanh, A.softmax] }, precision: P(20, 2, 4), rows: 200, batch: 100, kernel: 'packed' },
  { name: 'categorical columns only (7, 3, 12) → 8 leaky → 2', spec: { inputs: 3, cats: [[0, 7], [1, 3], [2, 12]], sizes: [8, 2], acts: [A.leaky(0.1), A.identity] }, precision: P(16, 2, 4), rows: 150, batch: 75, kernel: 'packed' },
  { name: 'one lane, a lone trimmed packet: 3 categories + 2 numeric → 1 sigmoid', spec: { inputs: 3, cats: [[1, 3]], sizes: [1], acts: [A.sigmoid] }, precision: P(20, 2, 4), rows: 150, batch: 75, kernel: 'packed' },
  { name: 'unsigned int16 inputs at 2^8, 3 categorical between numeric → 10 relu → 4, layout storage', spec: { inputs: 8, cats: [[1, 5], [3, 9], [6, 2]], sizes: [10, 4], acts: [A.relu, A.identity] }, precision: P(16, 2, 2, { inputFraction: 8, inputUnsigned: true }), layout: 'storage', rows: 150, batch: 75, kernel: 'packed' },
  { name: 'decimal scale 10^6, int64 inputs: 20 categories + 4 numeric → 6 sigmoid → 2', spec: { inputs: 5, cats: [[0, 20]], sizes: [6, 2], acts: [A.sigmoid, A.identity] }, precision: P(20, 4, 8, { decimals: 6 }), rows: 150, batch: 75, kernel: 'packed' },
  { name: 'fused: 60 categories + 90 numeric → 30 relu → 5, the blob embedded in the code', spec: { inputs: 91, cats: [[45, 60]], sizes: [30, 5], acts: [A.relu, A.identity] }, precision: P(16, 2, 4), embed: true, rows: 80, batch: 40, kernel: 'fused' },
  { name: 'fused and streamed: 2 categorical (40, 33) + 200 numeric → 40 relu → 3, 3 KB data contracts', spec: { inputs: 202, cats: [[0, 40], [201, 33]], sizes: [40, 3], acts: [A.relu, A.identity] }, precision: P(16, 2, 4), embed: false, chunkSize: 3000, rows: 40, batch: 20, kernel: 'fused streamed' },
  { name: 'layout code (binary search over 50 and 9 categories), decimal 10^4: + 2 numeric → 20 relu → 3', spec: { inputs: 4, cats: [[1, 50], [2, 9]], sizes: [20, 3], acts: [A.relu, A.identity] }, precision: P(20, 2, 4, { decimals: 4 }), layout: 'code', rows: 150, batch: 75, kernel: 'code' },
  { name: 'layout code (binary search): 2 categorical (5, 8) + 3 numeric → 6 tanh → 2', spec: { inputs: 5, cats: [[0, 5], [4, 8]], sizes: [6, 2], acts: [A.tanh, A.identity] }, precision: P(20, 2, 4), layout: 'code', rows: 150, batch: 75, kernel: 'code' },
  // int4 weights: the gather reads nibble fields, odd and even (a 4-bit shift), in groups of two shapes
  { name: 'int4: 2 categorical (7, 4) + 11 numeric → 19 relu → 3, int16 inputs (groups of 12 and 7 lanes, the latter\'s packets 31.5 bytes, padded)', spec: { inputs: 13, cats: [[0, 7], [5, 4]], sizes: [19, 3], acts: [A.relu, A.identity] }, precision: P(12, 0.5, 2, { inputFraction: 10 }), rows: 120, batch: 60, kernel: 'packed' },
  { name: 'int4, one lane: 9 categories + 4 numeric → 1 sigmoid, layout storage', spec: { inputs: 5, cats: [[2, 9]], sizes: [1], acts: [A.sigmoid] }, precision: P(16, 0.5, 4), layout: 'storage', rows: 100, batch: 50, kernel: 'packed' },
  { name: 'int4, uint8 inputs at 2^2, fused: 2 categorical (45, 9) + 199 numeric → 40 relu → 5 (odd fields in acc4), the blob embedded in the code', spec: { inputs: 201, cats: [[0, 45], [200, 9]], sizes: [40, 5], acts: [A.relu, A.identity] }, precision: P(5, 0.5, 1, { inputFraction: 2, inputUnsigned: true }), embed: true, rows: 40, batch: 20, kernel: 'fused' },
  { name: 'int4, layout code (binary search): 2 categorical (11, 3) + 2 numeric → 9 tanh → 2', spec: { inputs: 4, cats: [[1, 11], [3, 3]], sizes: [9, 2], acts: [A.tanh, A.identity] }, precision: P(16, 0.5, 4), layout: 'code', rows: 100, batch: 50, kernel: 'code' },
]

describe('differential fuzz: nn.Embedding gathered on chain = the simulator, bit for bit', () => {
  CASES.forEach((c, k) =>
    test(c.name, async () => {
      const plan = makePlan(randomEmbeddingModel(c.spec, 900 + k), c.precision)
      const layout = c.layout ?? 'datacontract'
      const kernel = kernelOf(plan, { layout, embedded: layout === 'datacontract' && embedsWeights(plan, { layout, embedWeights: c.embed }) })
      // the case covers the kernel it names
      expect(`${kernel.mode}${kernel.streams ? ' streamed' : ''}`).toBe(c.kernel)
      if (c.chunkSize) expect(blobLayout(plan).length).toBeGreaterThan(2 * c.chunkSize)
      const d = await deployCnn(s, plan, `Emb${k}`, layout, c.embed, c.chunkSize)
      const rows = randomEmbeddingRows(plan, c.rows, 77 + k)
      let mismatches = 0
      for (let at = 0; at < rows.length; at += c.batch) {
        const part = rows.slice(at, at + c.batch)
        const out = await d.batch(part)
        expect(out.outputs.length).toBe(part.length)
        out.outputs.forEach((o, i) => (mismatches += o.join() === simulate(plan, part[i]!).join() ? 0 : 1))
      }
      for (const row of rows.slice(0, 6)) mismatches += (await d.predict(row)).join() === simulate(plan, row).join() ? 0 : 1
      expect(mismatches).toBe(0)
      // every category of every categorical column was read at least once
      for (const cat of plan.categorical!) expect(new Set(rows.map((r) => r[cat.column])).size).toBeGreaterThanOrEqual(Math.min(cat.count, 3))
    }, 600_000),
  )
})

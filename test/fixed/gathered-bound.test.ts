// Interval analysis of a layer that gathers nn.Embedding columns: exactly one category of each categorical
// column is read, so its block adds its largest |w|·S, not the sum of all n. The bound must hold for every
// category and the worst numeric inputs (checked exhaustively here), and be the tighter one that lets
// wide vocabularies keep narrow lanes.
import { describe, expect, test } from 'bun:test'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulateLayers } from '../../src/fixed/simulate.ts'
import { inputScaleOf } from '../../src/fixed/types.ts'
import { expandedLayout, gatheredBound } from '../../src/ir/categorical.ts'
import { randomEmbeddingModel } from '../helpers/randomEmbedding.ts'
import { A } from '../helpers/syntheticModels.ts'

describe('interval analysis of the gathered embedding columns', () => {
  test('a block adds its largest term: hand-made row', () => {
    const cats = [{ column: 1, count: 3, name: 'e' }]
    // expanded: [x0, x2, c0, c1, c2]; xMax 10 for the numeric, S = 4 for the one-hot entries
    expect(expandedLayout(3, cats)).toEqual({ at: [0, 2, 1], size: 5, numeric: 2 })
    expect(gatheredBound([1n, -2n, 5n, -7n, 3n], [10n, 10n, 4n, 4n, 4n], -6n, 3, cats)).toBe(6n + 10n + 20n + 28n)
  })

  test('the bound holds for every category and the worst numeric inputs, and is below the one-hot sum', () => {
    const model = randomEmbeddingModel({ inputs: 4, cats: [[0, 12], [2, 5]], sizes: [6, 2], acts: [A.identity, A.identity] }, 5)
    const plan = makePlan(model, { fraction: 16, weightBytes: 2, inputBytes: 2, inputFraction: 8 })
    const S = inputScaleOf(plan)
    const layer = plan.layers[0]!
    const { at } = expandedLayout(plan.inputSize, plan.categorical)
    // the worst accumulator of output j: every numeric input at the extreme of its weight's sign, every category tried
    let reached = 0n
    for (let j = 0; j < layer.nOut; j++)
      for (let c0 = 0; c0 < 12; c0++)
        for (let c2 = 0; c2 < 5; c2++) {
          for (const sign of [1n, -1n]) {
            const row = [BigInt(c0) * S, 0n, BigInt(c2) * S, 0n]
            for (const i of [1, 3]) row[i] = layer.weights[j]![at[i]!]! * sign >= 0n ? plan.inputMax : plan.inputMin
            // the accumulator before the shift, from the layer's output: y = acc >> s, so |acc| < (|y| + 1)·2^s
            const y = simulateLayers(plan, row)[0]![j]!
            const acc = (y < 0n ? -y : y) << BigInt(layer.wShift)
            if (acc > reached) reached = acc
            expect(acc).toBeLessThanOrEqual(layer.accMax)
          }
        }
    // tight: the worst row comes within 1% of the bound (the bias half and the shift's floor aside)
    expect(Number(reached)).toBeGreaterThan(0.99 * Number(layer.accMax))
    // and below what summing every category's term gives
    const sumBound = layer.weights.map((row, j) => row.reduce((a, w, i) => a + (w < 0n ? -w : w) * (i < 2 ? -plan.inputMin : S), layer.biases[j]! < 0n ? -layer.biases[j]! : layer.biases[j]!))
    expect(layer.accMax < sumBound.reduce((a, b) => (a > b ? a : b), 0n)).toBe(true)
  })
})

// The simulator's float64 fast path for dense layers (src/fixed/simulate.ts) is exact: on random MLPs at
// several precisions, on inputs at the edge of the 2^53 bound and past it (where the BigInt loop must take
// over), every layer's outputs equal the plain BigInt accumulation, bit for bit.
import { describe, expect, test } from 'bun:test'
import { reluFixed } from '../../src/fixed/activations.ts'
import { encodeRow } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulateLayers } from '../../src/fixed/simulate.ts'
import type { Plan } from '../../src/fixed/types.ts'
import { randomMlp } from '../helpers/randomMlp.ts'
import { rng } from '../helpers/rng.ts'

/** The reference: the BigInt sum, shift and activation written out (ReLU hidden layers, identity last). */
function bigintForward(plan: Plan, input: bigint[]): bigint[][] {
  let x = input
  return plan.layers.map((layer, l) => {
    const y = layer.weights.map((row, j) => {
      let acc = layer.biases[j]!
      for (let i = 0; i < row.length; i++) acc += row[i]! * x[i]!
      return acc >> BigInt(layer.wShift)
    })
    x = l < plan.layers.length - 1 ? y.map(reluFixed) : y
    return x
  })
}

describe('dense layers in float64', () => {
  for (const [sizes, spec] of [
    [[784, 128, 10], { fraction: 20, weightBytes: 2, inputBytes: 4 }],
    [[30, 8, 1], { fraction: 16, weightBytes: 1, inputBytes: 2 }],
    [[64, 32, 10], { fraction: 24, weightBytes: 4, inputBytes: 4 }],
  ] as const)
    test(`${sizes.join('-')} at 2^${spec.fraction}, int${spec.weightBytes * 8} weights: equal to the BigInt sums`, () => {
      const plan = makePlan(randomMlp([...sizes], 11, { bias: 0.5 }), { ...spec })
      const r = rng(5)
      for (let k = 0; k < 30; k++) {
        const row = Array.from({ length: sizes[0] }, () => (r() * 2 - 1) * 3)
        const enc = encodeRow(plan, row)
        if (!enc.ok) continue
        expect(simulateLayers(plan, enc.values)).toEqual(bigintForward(plan, enc.values))
      }
    })

  test('inputs past the 2^53 bound fall back to BigInt and stay exact', () => {
    const plan = makePlan(randomMlp([16, 4, 2], 3), { fraction: 20, weightBytes: 2, inputBytes: 4 })
    const r = rng(9)
    for (const magnitude of [2n ** 30n, 2n ** 40n, 2n ** 52n, 2n ** 60n, 2n ** 100n]) {
      const input = Array.from({ length: 16 }, () => BigInt(Math.floor((r() * 2 - 1) * 1000)) * (magnitude / 1000n) + 1n)
      expect(simulateLayers(plan, input)).toEqual(bigintForward(plan, input))
    }
  })
})

// The dense layer's exact paths agree with BigInt: one double sum where it stays below 2^53, two limbs of
// the weights (src/fixed/weightLimbs.ts) past it, as while precision is chosen (weights at 2^31).
import { expect, test } from 'bun:test'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulateLayers } from '../../src/fixed/simulate.ts'
import { weightLimbs } from '../../src/fixed/weightLimbs.ts'
import { rng } from '../helpers/rng.ts'
import { A, chain } from '../helpers/syntheticModels.ts'

test('int32 weights, inputs from 2^12 to 2^52: the first layer equals (b + Σ w·x) >> wShift in BigInt, with the limbs taken for some', () => {
  const r = rng(11)
  let split = 0
  for (const sizes of [[12, 7, 3], [64, 16, 2], [300, 5, 1]]) {
    const plan = makePlan(chain(r, sizes, [A.identity, A.identity]), { fraction: 20, weightBytes: 4, inputBytes: 8 })
    const layer = plan.layers[0]!
    for (const mag of [2 ** 12, 2 ** 20, 2 ** 28, 2 ** 36, 2 ** 52]) {
      const x = Array.from({ length: sizes[0]! }, () => BigInt(Math.round((r() * 2 - 1) * mag)))
      const want = layer.weights.map((row, j) => row.reduce((a, w, i) => a + w * x[i]!, layer.biases[j]!) >> BigInt(layer.wShift))
      if (weightLimbs(layer, () => layer.weights.flat(), layer.biases.length, sizes[0]!, x)) split++
      expect(simulateLayers(plan, x)[0]).toEqual(want)
    }
  }
  // the limbs ran for some of these (small inputs fit one sum, the largest fit none)
  expect(split).toBeGreaterThan(2)
})

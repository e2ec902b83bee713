// Issue 19: the two graph ops on conv tensors (src/ir/ops/tensorJoin.ts), each face on its own: the shape rule
// and its one-line refusals, the float and fixed faces (a concat in C order is the parts one after another), the
// interval rule per channel and the 256-bit check; and the plan's scale rule: a join that reads the model's
// input keeps the input at the activation scale, else the sum would add values at two scales.
import { describe, expect, test } from 'bun:test'
import { joinBound, joinCheck, joinFixed, joinFloat, joinGas, joinShape } from '../../src/ir/ops/tensorJoin.ts'
import { estimateEvaluateGas } from '../../src/chain/spendGuard.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { pinOf } from '../../src/fixed/types.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { fixedTensorLayers } from '../../src/fixed/tensorForward.ts'
import { buildModel } from '../../src/ir/buildModel.ts'
import type { ArchStep, TensorMap } from '../../src/ir/types.ts'

describe('tensorJoin faces', () => {
  test('shape rule: an add keeps the shape, a concat sums the channels; other shapes are refused naming the layer', () => {
    expect(joinShape('add', [[4, 3, 3], [4, 3, 3]], 'L')).toEqual([4, 3, 3])
    expect(joinShape('concat', [[4, 3, 3], [2, 3, 3], [1, 3, 3]], 'L')).toEqual([7, 3, 3])
    expect(() => joinShape('add', [[4, 3, 3], [4, 1, 1]], "model.py: residual add 'add1'")).toThrow("model.py: residual add 'add1': a residual add of a 4×3×3 and a 4×1×1 tensor (broadcasting is not supported)")
    expect(() => joinShape('concat', [[4, 3, 3], [4, 3, 2]], 'L')).toThrow('L: torch.cat of a 4×3×3 and a 4×3×2 tensor along the channels (dim=1): the spatial sizes differ')
  })

  test('float and fixed: the element-wise sum, or the channel blocks one after another', () => {
    expect(joinFloat('add', [[1, 2.5], [0.5, -1], [1, 1]])).toEqual([2.5, 2.5])
    expect(joinFixed('add', [[1n << 200n, -3n], [1n << 200n, 5n]])).toEqual([1n << 201n, 2n])
    expect(joinFixed('concat', [[1n, 2n], [3n], [4n, 5n]])).toEqual([1n, 2n, 3n, 4n, 5n])
  })

  test('interval rule: a sum of per-channel bounds, a concat keeps each channel\'s; a sum past 2^254 is refused', () => {
    expect(joinBound('add', [[10n, 20n], [1n, 2n]])).toEqual([11n, 22n])
    expect(joinBound('concat', [[10n, 20n], [1n]])).toEqual([10n, 20n, 1n])
    expect(joinCheck([(1n << 254n) - 1n])).toBeUndefined()
    expect(joinCheck([1n << 253n, 1n << 254n])).toContain('beyond 2^254')
  })
})

describe('the plan of a skip from the input', () => {
  const tensors: TensorMap = new Map([
    ['c.weight', { shape: [1, 1, 3, 3], data: Float64Array.from([0.1, -0.2, 0.3, 0.05, 0.5, -0.1, 0.2, 0.0, -0.3]) }],
    ['c.bias', { shape: [1], data: Float64Array.from([0.01]) }],
    ['fc.weight', { shape: [2, 16], data: Float64Array.from({ length: 32 }, (_, i) => ((i % 7) - 3) / 10) }],
  ])
  const steps: ArchStep[] = [{ op: 'join', kind: 'add', branches: [[{ op: 'conv', name: 'c', dims: 2, padding: { begin: [1, 1], end: [1, 1] } }], []] }, { op: 'activation', activation: { kind: 'relu' } }, { op: 'flatten' }, { op: 'linear', name: 'fc' }]
  const model = buildModel(steps, tensors, 't', 't', [1, 4, 4])

  test('F.relu(conv(x) + x): the input stays at the activation scale, and the add is the integer sum', () => {
    expect(model.tensorLayers!.map((l) => [l.kind, 'values' in l ? l.values : []])).toEqual([['conv', []], ['add', [1, 0]]])
    // inputs at their own scale 2^8 are asked for; a later layer reads the input, so they stay at 2^16
    const plan = makePlan(model, { fraction: 16, weightBytes: 2, inputBytes: 4, inputFraction: 8 })
    expect(plan.inputFraction).toBeUndefined()
    const row = Array.from({ length: 16 }, (_, i) => BigInt((i - 7) * 3000))
    const [conv, sum] = fixedTensorLayers(plan, row)
    expect(sum).toEqual(conv!.map((v, i) => (v + row[i]! < 0n ? 0n : v + row[i]!)))
    expect(simulate(plan, row)).toHaveLength(2)
    // the no-chain estimate counts the add: 16 values at the add's per-value gas on top of the same plan without it
    const without = { ...plan, tensorLayers: plan.tensorLayers!.slice(0, 1) }
    expect(estimateEvaluateGas(plan, 1, 1).gas - estimateEvaluateGas(without, 1, 1).gas).toBe(BigInt(16 * joinGas('add', 2)))
  })

  test('an update may change the weights but not the wiring the contract was generated for', () => {
    const p = { fraction: 16, weightBytes: 2, inputBytes: 4 }
    const pin = pinOf(makePlan(model, p))
    expect(() => makePlan(model, p, pin)).not.toThrow()
    // conv(x) + conv(x): the same layers and scales, but the add reads other values
    const conv: ArchStep = { op: 'conv', name: 'c', dims: 2, padding: { begin: [1, 1], end: [1, 1] } }
    const rewired = buildModel([conv, { op: 'join', kind: 'add', branches: [[], []] }, ...steps.slice(1)], tensors, 't', 't', [1, 4, 4])
    expect(rewired.tensorLayers!.map((l) => l.kind)).toEqual(['conv', 'add'])
    expect(() => makePlan(rewired, p, pin)).toThrow('other wiring (what each layer reads), than the deployed contract has')
  })
})

// A truncating quantiser would survive a fidelity check under `weights: auto`: auto widens the weights until
// the error is small, which hides the lost half-LSB. So the rounding itself is checked, at the precision
// auto picks for every fixture: each stored weight, bias and input is within half a unit of its exact value.
import { describe, expect, test } from 'bun:test'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { readAllRows } from '../../src/data/readCsv.ts'
import { encodeRow } from '../../src/fixed/encodeRows.ts'
import { quantize } from '../../src/fixed/makePlan.ts'
import { weightExponent } from '../../src/fixed/types.ts'
import { prepareModel } from '../../src/pipeline/prepareModel.ts'
import { FIXTURES } from '../helpers/paths.ts'

const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-round-'))
const HALF = 0.5 + 1e-9

test('quantize rounds to nearest (half away from zero), never toward zero', () => {
  expect(quantize(0.7, 0)).toBe(1n)
  expect(quantize(-0.7, 0)).toBe(-1n)
  expect(quantize(0.5, 0)).toBe(1n)
  expect(quantize(-0.5, 0)).toBe(-1n)
  expect(quantize(0.3, 0)).toBe(0n)
  expect(quantize(0.75, 1)).toBe(2n)
  expect(quantize(-2.6, 0)).toBe(-3n)
})

describe('weights: auto — every quantised number is within half a unit of the exact value', () => {
  for (const name of ['bc_sigmoid', 'diabetes_reg', 'digits_bn', 'iris_logits', 'iris_softmax', 'wine_tanh_leaky'])
    test(name, async () => {
      const cfg = path.join(dir, `${name}.yaml`)
      writeFileSync(cfg, `model:\n  path: ${path.join(FIXTURES, name, 'model.onnx')}\ndata:\n  test: ${path.join(FIXTURES, name, 'test.csv')}\n  label: label\nprecision:\n  weights: auto\n`)
      const { model, plan } = await prepareModel(await loadConfig(cfg))
      let worstW = 0
      let worstB = 0
      plan.layers.forEach((l, k) => {
        const layer = model.layers[k]!
        // the first layer's weights sit at 2^(wShift + F − Fin) when inputs have their own scale 2^Fin
        const e = weightExponent(plan, k, l.wShift)
        l.weights.forEach((row, j) => row.forEach((q, i) => (worstW = Math.max(worstW, Math.abs(Number(q) - layer.weight[j]![i]! * 2 ** e)))))
        // the bias carries the accumulator's rounding half-ulp on top of its own rounding
        const half = l.wShift > 0 ? 2 ** (l.wShift - 1) : 0
        l.biases.forEach((q, j) => (worstB = Math.max(worstB, Math.abs(Number(q) - half - layer.bias[j]! * 2 ** (l.wShift + plan.F)))))
      })
      expect(worstW).toBeLessThanOrEqual(HALF)
      expect(worstB).toBeLessThanOrEqual(HALF)
      let worstX = 0
      const { features } = await readAllRows(path.join(FIXTURES, name, 'test.csv'), { label: 'label' })
      for (const x of features) {
        const enc = encodeRow(plan, x)
        if (enc.ok) enc.values.forEach((q, i) => (worstX = Math.max(worstX, Math.abs(Number(q) - x[i]! * 2 ** (plan.inputFraction ?? plan.F)))))
      }
      expect(worstX).toBeLessThanOrEqual(HALF)
    })
})

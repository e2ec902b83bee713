import { describe, expect, test } from 'bun:test'
import path from 'node:path'
import { readAllRows } from '../../src/data/readCsv.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { estimatePrecision, precisionWarnings } from '../../src/fixed/precisionWarnings.ts'
import type { ModelIR } from '../../src/ir/types.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { FIXTURES } from '../helpers/paths.ts'

const fixture = async (name: string) => ({
  model: await loadModel({ path: path.join(FIXTURES, name, 'model.onnx') }),
  rows: (await readAllRows(path.join(FIXTURES, name, 'test.csv'), { label: 'label' })).features,
})

describe('precision warnings', () => {
  test('bc_sigmoid at int16: error ~4e-6, no warning', async () => {
    const { model, rows } = await fixture('bc_sigmoid')
    const e = estimatePrecision(model, makePlan(model, { fraction: 20, weightBytes: 2, inputBytes: 4 }), { task: 'binary', rows })
    expect(e.source).toBe('rows')
    expect(e.rows).toBe(50)
    expect(e.maxAbs).toBeGreaterThan(0)
    expect(e.maxAbs).toBeLessThan(1e-5)
    expect(e.meanAbs).toBeLessThanOrEqual(e.maxAbs)
    expect(e.flips).toBe(0)
    expect(e.warnings).toEqual([])
  })

  test('bc_sigmoid at int8: warns with the figure and names int16 as the fix', async () => {
    const { model, rows } = await fixture('bc_sigmoid')
    const w = precisionWarnings(model, makePlan(model, { fraction: 20, weightBytes: 1, inputBytes: 4 }), { task: 'binary', rows })
    const out = w.find((x) => x.code === 'output-error')!
    expect(out).toBeDefined()
    expect(out.value).toBeGreaterThan(1e-3)
    expect(out.message).toContain(out.value.toExponential(1))
    expect(out.message).toContain('int8')
    expect(out.hint).toContain('int16')
  })

  test('wine_tanh_leaky at int16: output error above 1e-4 (logits ~10), int24 suggested', async () => {
    const { model, rows } = await fixture('wine_tanh_leaky')
    const w = precisionWarnings(model, makePlan(model, { fraction: 20, weightBytes: 2, inputBytes: 4 }), { task: 'multiclass', rows })
    expect(w.map((x) => x.code)).toEqual(['output-error'])
    expect(w[0]!.value).toBeGreaterThan(1e-4)
    expect(w[0]!.hint).toContain('int24')
  })

  test('near-ties: a class margin within the error is flagged', () => {
    // out = x (identity weights): rows whose two inputs differ by less than the input ulp tie after rounding
    const model: ModelIR = { format: 'synthetic', inputSize: 2, layers: [{ name: 'id', weight: [[1, 0], [0, 1]], bias: [0, 0], activation: { kind: 'identity' } }] }
    const rows = [[1, 1 + 1e-9], [0.5, -0.5], [2, 1]]
    const e = estimatePrecision(model, makePlan(model, { fraction: 20, weightBytes: 2, inputBytes: 4 }), { task: 'multiclass', rows })
    expect(e.flips + e.closeMargins).toBeGreaterThan(0)
    expect(e.warnings.some((w) => w.code === 'class-flips' || w.code === 'close-margins')).toBe(true)
  })

  test('without rows: random N(0,1) rows, deterministic', async () => {
    const { model } = await fixture('iris_softmax')
    const plan = makePlan(model, { fraction: 20, weightBytes: 2, inputBytes: 4 })
    const a = estimatePrecision(model, plan, { task: 'multiclass' })
    const b = estimatePrecision(model, plan, { task: 'multiclass' })
    expect(a.source).toBe('random')
    expect(a.rows).toBe(256)
    expect(a).toEqual(b)
    expect(a.maxAbs).toBeLessThan(1e-4)
  })
})

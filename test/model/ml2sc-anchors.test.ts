import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { loadModel } from '../../src/model/loadModel.ts'
import { forward } from './helpers.ts'

// ML2SC's nine reference models (copied into test/fixtures/ml2sc, see PROVENANCE.md).
const ML2SC = path.resolve(import.meta.dir, '../fixtures/ml2sc')
const MODELS = ['MLP_1L1', 'MLP_2L1', 'MLP_2L2', 'MLP_2L3', 'MLP_2L4', 'MLP_3L1', 'MLP_3L2', 'MLP_3L3', 'MLP_3L4']

const lines = readFileSync(path.join(ML2SC, 'processed_data.csv'), 'utf8').trim().split(/\r?\n/)
const header = lines[0]!.split(',')
const drop = new Set([header.indexOf('id'), header.indexOf('diagnosis')])
const rows = lines.slice(1, 51).map((l) => l.split(',').map(Number).filter((_, c) => !drop.has(c)))

const layersFor = (name: string): string[] => {
  const depth = Number(name[4])
  return [...Array.from({ length: depth - 1 }, () => ['linear', 'relu']).flat(), 'linear', 'sigmoid']
}

describe('ML2SC reference models', () => {
  test('the test set is 50 rows of 30 features', () => {
    expect(rows.length).toBe(50)
    expect(rows.every((r) => r.length === 30)).toBe(true)
  })
  for (const name of MODELS) {
    test(`${name}: models.py + weights json reproduce PyTorch's outputs within 1e-6; model.layers gives the same IR`, async () => {
      const weights = path.join(ML2SC, 'weights', `${name}.json`)
      const ir = await loadModel({ path: weights, source: path.join(ML2SC, 'models.py'), class: name })
      expect(ir.format).toBe('state_dict-json')
      expect(ir.inputSize).toBe(30)
      expect(ir.layers.length).toBe(Number(name[4]))
      const ref = readFileSync(path.join(ML2SC, 'reference', `${name}.outputs.csv`), 'utf8').trim().split(/\r?\n/).map(Number)
      expect(ref.length).toBe(50)
      rows.forEach((x, i) => {
        const [y] = forward(ir, x)
        expect(Math.abs(y! - ref[i]!)).toBeLessThanOrEqual(1e-6)
      })
      const viaLayers = await loadModel({ path: weights, layers: layersFor(name) })
      expect(viaLayers).toEqual(ir)
    })
  }
})

// Issue 19, multi-output models: a shared trunk with a classification head and a regression head (real PyTorch,
// scripts/make-heads-fixture.py), read from model.py + state_dict and from ONNX with two named graph outputs.
// The IR lays the heads side by side in one `heads` layer (src/ir/heads.ts): its float pass equals PyTorch per
// head, and the fixed-point twin is exact through it (simulator == the per-value integers, bit for bit).
import { describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import { simulateLayers } from '../../src/fixed/simulate.ts'
import { encodeRow } from '../../src/fixed/encodeRows.ts'
import { headsOf, headTaskOf } from '../../src/ir/heads.ts'
import { parameterCount } from '../../src/ir/taskOf.ts'
import { inspectTarget, renderInspect } from '../../src/commands/inspect.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { FIXTURES } from '../helpers/paths.ts'

const D = path.join(FIXTURES, 'graph', 'heads_wine')
const csv = (f: string) =>
  readFileSync(f, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(',').map(Number))
const rows = csv(path.join(D, 'test.csv')).map((r) => r.slice(0, 12))
const ref = csv(path.join(D, 'reference.csv')).map((r) => r.slice(1))

describe('a two-head model (classification + regression)', () => {
  test('model.py + state_dict: heads named from the returned variables, each reading its own branch of the trunk', async () => {
    const m = await loadModel({ path: path.join(D, 'model.state_dict.pt'), source: path.join(D, 'model.py') })
    expect(m.heads).toEqual([
      { name: 'logits', size: 3 },
      { name: 'alcohol', size: 1 },
    ])
    // trunk1, trunk2 (value 2), cls reads 2; reg1 reads 2 too; reg2 after reg1; `heads` concatenates cls and reg2
    expect(m.layers.map((l) => [l.name, l.input ?? null])).toEqual([
      ['trunk1', null],
      ['trunk2', null],
      ['cls', null],
      ['reg1', { op: 'concat', values: [2] }],
      ['reg2', null],
      ['heads', { op: 'concat', values: [3, 5] }],
    ])
    // PyTorch's parameter count: the heads layer is ml2sc's, not the model's
    expect(parameterCount(m)).toBe(676)
    expect(renderInspect(await inspectTarget(path.join(D, 'model.onnx')))).toContain('outputs      logits (3), then alcohol (1)')
    const heads = headsOf(m, 4)
    expect(heads.map((h) => [h.name, h.offset, h.size, headTaskOf(m, h)])).toEqual([
      ['logits', 0, 3, 'multiclass'],
      ['alcohol', 3, 1, 'regression'],
    ])
    let worst = 0
    rows.forEach((r, i) => referenceForward(m, r).forEach((v, j) => (worst = Math.max(worst, Math.abs(v - ref[i]![j]!)))))
    expect(worst).toBeLessThan(1e-4)
  })

  test('the same state_dict as JSON (ML2SC-style weights file) with model.py: the same heads and layers', async () => {
    const { readPt } = await import('../../src/model/readPt.ts')
    const { tensors } = await readPt(path.join(D, 'model.state_dict.pt'))
    const doc: Record<string, number[] | number[][]> = {}
    for (const [k, t] of tensors) doc[k] = t.shape.length === 2 ? Array.from({ length: t.shape[0]! }, (_, i) => Array.from(t.data.subarray(i * t.shape[1]!, (i + 1) * t.shape[1]!))) : Array.from(t.data)
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'ml2sc-heads-json-')), 'weights.json')
    writeFileSync(file, JSON.stringify(doc))
    const json = await loadModel({ path: file, source: path.join(D, 'model.py') })
    const py = await loadModel({ path: path.join(D, 'model.state_dict.pt'), source: path.join(D, 'model.py') })
    expect(json.format).toBe('state_dict-json')
    expect(json.heads).toEqual(py.heads)
    expect(json.layers).toEqual(py.layers)
  })

  test('ONNX with output_names=[logits, alcohol]: the same graph, heads named as exported', async () => {
    const py = await loadModel({ path: path.join(D, 'model.state_dict.pt'), source: path.join(D, 'model.py') })
    const onnx = await loadModel({ path: path.join(D, 'model.onnx') })
    expect(onnx.heads).toEqual(py.heads)
    expect(onnx.layers.map((l) => [l.name, l.input ?? null, l.activation.kind])).toEqual(py.layers.map((l) => [l.name, l.input ?? null, l.activation.kind]))
    rows.forEach((r, i) => referenceForward(onnx, r).forEach((v, j) => expect(Math.abs(v - ref[i]![j]!)).toBeLessThan(1e-4)))
  })

  test('fixed point: the heads layer passes each head through exactly; every head within 1e-3 of PyTorch', async () => {
    const m = await loadModel({ path: path.join(D, 'model.state_dict.pt'), source: path.join(D, 'model.py') })
    for (const weightBytes of [2, 3]) {
      const plan = makePlan(m, { fraction: 20, weightBytes, inputBytes: 4 })
      expect(plan.outputSize).toBe(4)
      for (const [i, r] of rows.entries()) {
        const enc = encodeRow(plan, r)
        if (!enc.ok) throw new Error('row out of range')
        const t = simulateLayers(plan, enc.values)
        // the output is cls's integers then reg2's, unchanged (the identity layer rounds nothing)
        expect(t.at(-1)).toEqual([...t[2]!, ...t[4]!])
        t.at(-1)!.forEach((v, j) => expect(Math.abs(Number(v) / 2 ** 20 - ref[i]![j]!)).toBeLessThan(1e-3))
      }
    }
  })

  test('a head that is a sum with no Linear after it is refused, naming the output', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-heads-'))
    const py = path.join(dir, 'model.py')
    writeFileSync(py, readFileSync(path.join(D, 'model.py'), 'utf8').replace('return logits, alcohol', 'return logits, h + h'))
    await expect(loadModel({ path: path.join(D, 'model.state_dict.pt'), source: py })).rejects.toThrow(/output 'out1' is a residual sum/)
  })
})

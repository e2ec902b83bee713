import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ModelError } from '../../src/errors/base.ts'
import { readStateDictJson } from '../../src/model/readStateDictJson.ts'

const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-json-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
function file(text: string): string {
  const f = path.join(dir, `w${n++}.json`)
  writeFileSync(f, text)
  return f
}
async function errorOf(p: Promise<unknown>): Promise<ModelError> {
  try {
    await p
  } catch (e) {
    expect(e).toBeInstanceOf(ModelError)
    return e as ModelError
  }
  throw new Error('expected a ModelError')
}

describe('readStateDictJson', () => {
  test('reads tensors of rank 0-2, keeping key order', async () => {
    const f = file(JSON.stringify({ 'z.weight': [[1, 2, 3], [4, 5, 6]], 'z.bias': [0.5, -1], 'a.weight': [[7, 8]], 'bn.num_batches_tracked': 3 }))
    const r = await readStateDictJson(f)
    expect(r.format).toBe('state_dict-json')
    expect(r.steps).toBeUndefined()
    expect([...r.tensors.keys()]).toEqual(['z.weight', 'z.bias', 'a.weight', 'bn.num_batches_tracked'])
    expect(r.tensors.get('z.weight')).toEqual({ shape: [2, 3], data: Float64Array.of(1, 2, 3, 4, 5, 6) })
    expect(r.tensors.get('z.bias')!.shape).toEqual([2])
    expect(r.tensors.get('bn.num_batches_tracked')).toEqual({ shape: [], data: Float64Array.of(3) })
  })

  test('unwraps {"state_dict": {...}}', async () => {
    const r = await readStateDictJson(file(JSON.stringify({ state_dict: { 'fc.weight': [[1]], 'fc.bias': [0] } })))
    expect([...r.tensors.keys()]).toEqual(['fc.weight', 'fc.bias'])
  })

  test('invalid JSON gives line and column', async () => {
    const e = await errorOf(readStateDictJson(file('{\n  "fc.weight": [[1, 2],\n  "fc.bias": [0]\n}')))
    expect(e.shortMessage).toMatch(/^invalid JSON at line 3, column 12: expected ',' or ']', found ':'/)
    const t = await errorOf(readStateDictJson(file('{"fc.weight": [[1, 2], [3')))
    expect(t.shortMessage).toContain('unexpected end of file')
    const nan = await errorOf(readStateDictJson(file('{"fc.weight": [[NaN, 2]]}')))
    expect(nan.shortMessage).toContain("'NaN' is not a JSON number")
    expect(nan.hint).toContain('NaN')
  })

  test('non-numeric entries name the key', async () => {
    expect((await errorOf(readStateDictJson(file('{"fc.weight": [[1, "2"]]}')))).shortMessage).toBe(`'fc.weight'[0][1] is the string "2", expected a number`)
    expect((await errorOf(readStateDictJson(file('{"fc.bias": [1, null]}')))).shortMessage).toContain("'fc.bias'[1] is null")
    expect((await errorOf(readStateDictJson(file('{"fc.bias": "x"}')))).shortMessage).toContain("'fc.bias' is the string")
    expect((await errorOf(readStateDictJson(file('[1, 2]')))).shortMessage).toContain('found an array')
  })

  test('ragged arrays; 3-D and 4-D conv weights', async () => {
    expect((await errorOf(readStateDictJson(file('{"fc.weight": [[1, 2], [3]]}')))).shortMessage).toBe("'fc.weight' is ragged: row 1 has 1 entries, row 0 has 2")
    expect((await errorOf(readStateDictJson(file('{"fc.weight": [[1, 2], 3]}')))).shortMessage).toContain("'fc.weight'[1] is number 3")
    expect((await errorOf(readStateDictJson(file('{"fc.weight": [1, [2]]}')))).hint).toContain('ragged')
    const conv = (await readStateDictJson(file('{"conv.weight": [[[[1, 2], [3, 4]]], [[[5, 6], [7, 8]]]]}'))).tensors.get('conv.weight')!
    expect([conv.shape, Array.from(conv.data)]).toEqual([[2, 1, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]])
    expect((await errorOf(readStateDictJson(file('{"conv.weight": [[[1, 2]], [[3]]]}')))).shortMessage).toContain("'conv.weight' is ragged at [1][0]")
    expect((await errorOf(readStateDictJson(file('{"x": [[[[[1]]]]]}')))).shortMessage).toContain('5 dimensions')
  })

  test('reads an ML2SC weights file', async () => {
    const r = await readStateDictJson(path.resolve(import.meta.dir, '../fixtures/ml2sc/weights/MLP_3L2.json'))
    expect([...r.tensors].map(([k, v]) => `${k}[${v.shape}]`)).toEqual(['fc1.weight[2,30]', 'fc1.bias[2]', 'fc2.weight[2,2]', 'fc2.bias[2]', 'fc3.weight[1,2]', 'fc3.bias[1]'])
  })
})

import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ModelError } from '../../src/errors/base.ts'
import { buildModel } from '../../src/ir/buildModel.ts'
import type { ModelIR } from '../../src/ir/types.ts'
import { parseLayersSpec } from '../../src/model/parseLayersSpec.ts'
import { forward, readCsv } from './helpers.ts'
import { readPt } from '../../src/model/readPt.ts'
import { readSafetensors, readSafetensorsBytes } from '../../src/model/readSafetensors.ts'

const FIX = join(import.meta.dir, '..', 'fixtures')
const MODELS = ['bc_sigmoid', 'iris_logits', 'iris_softmax', 'wine_tanh_leaky', 'diabetes_reg', 'digits_bn']




function maxErrorVsReference(ir: ModelIR, model: string, refPath: string): number {
  const { header, rows } = readCsv(join(FIX, model, 'test.csv'))
  const li = header.indexOf('label')
  const ref = readCsv(refPath).rows
  let worst = 0
  rows.forEach((r, i) => {
    const y = forward(ir, r.filter((_, c) => c !== li))
    y.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - ref[i]![k + 1]!))))
  })
  return worst
}

const layersOf = (m: string): string[] => JSON.parse(readFileSync(join(FIX, m, 'meta.json'), 'utf8')).layers

describe.each(MODELS)('%s', (model) => {
  test('model.safetensors equals the state_dict .pt and reproduces PyTorch', async () => {
    const st = await readSafetensors(join(FIX, model, 'model.safetensors'))
    expect(st.format).toBe('safetensors')
    const pt = await readPt(join(FIX, model, 'model.state_dict.pt'))
    // same names in the same (saved) order, same shapes, bit-identical values
    expect([...st.tensors.keys()]).toEqual([...pt.tensors.keys()])
    for (const [k, t] of pt.tensors) {
      expect(st.tensors.get(k)!.shape).toEqual(t.shape)
      expect(Array.from(st.tensors.get(k)!.data)).toEqual(Array.from(t.data))
    }
    const ir = buildModel(parseLayersSpec(layersOf(model), st.tensors, 'meta.json'), st.tensors, st.format)
    expect(maxErrorVsReference(ir, model, join(FIX, model, 'reference.csv'))).toBeLessThanOrEqual(1e-5)
  })
})

describe('safetensors dtypes', () => {
  test.each(['f64', 'f16', 'bf16'])('iris %s', async (tag) => {
    const st = await readSafetensors(join(FIX, 'special', `iris_${tag}.safetensors`))
    const pt = await readPt(join(FIX, 'special', `iris_${tag}.pt`))
    for (const [k, t] of pt.tensors) expect(Array.from(st.tensors.get(k)!.data)).toEqual(Array.from(t.data))
    const ir = buildModel(parseLayersSpec(['linear', 'relu', 'linear'], st.tensors, 'meta.json'), st.tensors, st.format)
    expect(maxErrorVsReference(ir, 'iris_logits', join(FIX, 'special', `iris_${tag}.reference.csv`))).toBeLessThanOrEqual(1e-5)
  })
})

describe('damaged safetensors files give ModelError', () => {
  const good = new Uint8Array(readFileSync(join(FIX, 'iris_logits', 'model.safetensors')))
  const headerLen = Number(new DataView(good.buffer, good.byteOffset).getBigUint64(0, true))

  function withHeader(header: unknown, data = new Uint8Array(64)): Uint8Array {
    const h = new TextEncoder().encode(JSON.stringify(header))
    const out = new Uint8Array(8 + h.length + data.length)
    new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true)
    out.set(h, 8)
    out.set(data, 8 + h.length)
    return out
  }
  const fails = (bytes: Uint8Array, re: RegExp) => {
    let err: unknown
    try {
      readSafetensorsBytes(bytes, 'm.safetensors')
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ModelError)
    expect((err as ModelError).message).toMatch(re)
    expect((err as ModelError).where).toBe('m.safetensors')
  }

  test('truncated anywhere', () => {
    for (let cut = 0; cut < good.length; cut += 13) fails(good.subarray(0, cut), /not a valid safetensors file|truncated/)
    fails(good.subarray(0, good.length - 1), /truncated/)
  })
  test('bad header JSON', () => {
    const bad = good.slice()
    bad[8] = 0x5b // '['
    fails(bad, /not valid JSON|not a JSON object/)
    fails(withHeader([1, 2]), /not a JSON object/)
  })
  test('a header length larger than the file', () => {
    const bad = good.slice()
    new DataView(bad.buffer).setBigUint64(0, BigInt(headerLen + 10_000), true)
    fails(bad, /header length/)
  })
  test('unsupported dtype, wrong sizes, offsets outside the data', () => {
    fails(withHeader({ w: { dtype: 'C64', shape: [2], data_offsets: [0, 16] } }), /dtype C64/)
    fails(withHeader({ w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 20] } }), /needs 24/)
    fails(withHeader({ w: { dtype: 'F32', shape: [32], data_offsets: [0, 128] } }), /truncated/)
    fails(withHeader({ w: { dtype: 'F32', shape: 'x', data_offsets: [0, 4] } }), /bad shape/)
    fails(withHeader({ w: { dtype: 'F32', shape: [1], data_offsets: [8, 4] } }), /bad data_offsets/)
  })
  test('a file that is not safetensors at all', () => {
    fails(new TextEncoder().encode('hi'), /only 2 bytes/)
    fails(new Uint8Array(readFileSync(join(FIX, 'iris_logits', 'model.state_dict.pt'))), /header length|JSON/)
  })
  test('__metadata__ is skipped and F16/BF16/I64 decode', () => {
    const data = new Uint8Array([0x00, 0x3c, 0x00, 0xc0, 0x80, 0x3f, 0x00, 0xc0, 5, 0, 0, 0, 0, 0, 0, 0])
    const f = readSafetensorsBytes(
      withHeader(
        {
          __metadata__: { format: 'pt' },
          h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
          b: { dtype: 'BF16', shape: [2], data_offsets: [4, 8] },
          n: { dtype: 'I64', shape: [], data_offsets: [8, 16] },
        },
        data,
      ),
      'm.safetensors',
    )
    expect(Array.from(f.tensors.get('h')!.data)).toEqual([1, -2])
    expect(Array.from(f.tensors.get('b')!.data)).toEqual([1, -2])
    expect(Array.from(f.tensors.get('n')!.data)).toEqual([5])
    expect(f.tensors.get('n')!.shape).toEqual([])
  })
})

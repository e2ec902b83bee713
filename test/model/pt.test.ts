import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ModelError } from '../../src/errors/base.ts'
import { buildModel } from '../../src/ir/buildModel.ts'
import type { ModelIR } from '../../src/ir/types.ts'
import { parseLayersSpec } from '../../src/model/parseLayersSpec.ts'
import { forward, readCsv } from './helpers.ts'
import { readPt, readPtBytes } from '../../src/model/readPt.ts'
import { halfToFloat } from '../../src/model/readTorchZip.ts'

const FIX = join(import.meta.dir, '..', 'fixtures')
const MODELS = ['bc_sigmoid', 'iris_logits', 'iris_softmax', 'wine_tanh_leaky', 'diabetes_reg', 'digits_bn']

type Meta = { layers: string[]; class: string; task: string; inputSize: number; outputs: number }





function testInputs(model: string): number[][] {
  const { header, rows } = readCsv(join(FIX, model, 'test.csv'))
  const li = header.indexOf('label')
  return rows.map((r) => r.filter((_, i) => i !== li))
}

function expectMatchesReference(ir: ModelIR, inputs: number[][], refPath: string, tol = 1e-5) {
  const ref = readCsv(refPath).rows.map((r) => r.slice(1))
  expect(ref.length).toBe(inputs.length)
  let worst = 0
  inputs.forEach((x, i) => {
    const y = forward(ir, x)
    expect(y.length).toBe(ref[i]!.length)
    y.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - ref[i]![k]!))))
  })
  expect(worst).toBeLessThanOrEqual(tol)
}

function expectSameIR(a: ModelIR, b: ModelIR, { names = true, tol = 1e-7 } = {}) {
  expect(a.inputSize).toBe(b.inputSize)
  expect(a.layers.length).toBe(b.layers.length)
  a.layers.forEach((la, l) => {
    const lb = b.layers[l]!
    if (names) expect(la.name).toBe(lb.name)
    expect(la.activation).toEqual(lb.activation)
    expect(la.weight.length).toBe(lb.weight.length)
    expect(la.weight[0]!.length).toBe(lb.weight[0]!.length)
    let worst = 0
    la.weight.forEach((row, j) => row.forEach((w, i) => (worst = Math.max(worst, Math.abs(w - lb.weight[j]![i]!)))))
    la.bias.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - lb.bias[j]!))))
    expect(worst).toBeLessThanOrEqual(tol)
  })
}

const meta = (m: string): Meta => JSON.parse(readFileSync(join(FIX, m, 'meta.json'), 'utf8'))

async function baseIR(model: string): Promise<ModelIR> {
  const f = await readPt(join(FIX, model, 'model.state_dict.pt'))
  return buildModel(parseLayersSpec(meta(model).layers, f.tensors, 'meta.json'), f.tensors, f.format)
}

async function expectModelError(p: Promise<unknown> | (() => unknown), ...parts: (string | RegExp)[]): Promise<ModelError> {
  let err: unknown
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (e) {
    err = e
  }
  expect(err).toBeInstanceOf(ModelError)
  const text = (err as ModelError).message
  for (const part of parts) expect(text).toMatch(part)
  return err as ModelError
}

// --- the fixtures -----------------------------------------------------------------------------------

describe.each(MODELS)('%s', (model) => {
  const dir = join(FIX, model)

  test('state_dict .pt + meta.json layers reproduces PyTorch', async () => {
    const f = await readPt(join(dir, 'model.state_dict.pt'))
    expect(f.format).toBe('state_dict-pt')
    expect(f.steps).toBeUndefined()
    const ir = buildModel(parseLayersSpec(meta(model).layers, f.tensors, 'meta.json'), f.tensors, f.format)
    expect(ir.inputSize).toBe(meta(model).inputSize)
    expect(ir.layers.at(-1)!.weight.length).toBe(meta(model).outputs)
    expectMatchesReference(ir, testInputs(model), join(dir, 'reference.csv'))
  })

  test.each(['whole', 'trace', 'script'])('model.%s.pt gives the same IR', async (kind) => {
    const f = await readPt(join(dir, `model.${kind}.pt`))
    expect(f.format).toBe(kind === 'whole' ? 'whole-model-pt' : 'torchscript')
    const base = await baseIR(model)
    let steps = f.steps
    if (model === 'bc_sigmoid' && kind === 'whole') {
      // a custom nn.Module pickled whole: submodules, but no call order
      expect(f.steps).toBeUndefined()
      expect(f.orderUnknown).toMatch(/BCNet/)
      expect(f.orderUnknown).toMatch(/fc1: Linear, fc2: Linear/)
      steps = parseLayersSpec(meta(model).layers, f.tensors, 'meta.json')
    } else {
      expect(f.orderUnknown).toBeUndefined()
      expect(steps).toBeDefined()
    }
    const ir = buildModel(steps!, f.tensors, f.format)
    expectSameIR(ir, base)
    expectMatchesReference(ir, testInputs(model), join(dir, 'reference.csv'))
  })

  test('all formats hold the same tensors as the state_dict', async () => {
    const base = (await readPt(join(dir, 'model.state_dict.pt'))).tensors
    for (const kind of ['whole', 'trace', 'script']) {
      const t = (await readPt(join(dir, `model.${kind}.pt`))).tensors
      expect([...t.keys()]).toEqual([...base.keys()])
      for (const [k, v] of base) {
        expect(t.get(k)!.shape).toEqual(v.shape)
        expect(Array.from(t.get(k)!.data)).toEqual(Array.from(v.data))
      }
    }
  })
})

describe('TorchScript forward order', () => {
  test('custom module: the order and functional activations come from code/', async () => {
    for (const kind of ['trace', 'script']) {
      const f = await readPt(join(FIX, 'bc_sigmoid', `model.${kind}.pt`))
      expect(f.steps).toEqual([
        { op: 'linear', name: 'fc1' },
        { op: 'activation', activation: { kind: 'relu' } },
        { op: 'linear', name: 'fc2' },
        { op: 'activation', activation: { kind: 'sigmoid' } },
      ])
    }
  })
  test('LeakyReLU slope, Softmax, BatchNorm eps and Dropout are read from trace and script code', async () => {
    for (const kind of ['whole', 'trace', 'script']) {
      const w = await readPt(join(FIX, 'wine_tanh_leaky', `model.${kind}.pt`))
      expect(w.steps!.find((s) => s.op === 'activation' && s.activation.kind === 'leaky_relu')).toEqual({
        op: 'activation',
        activation: { kind: 'leaky_relu', slope: 0.1 },
        name: 'leaky1',
      })
      const d = await readPt(join(FIX, 'digits_bn', `model.${kind}.pt`))
      expect(d.steps).toEqual([
        { op: 'linear', name: 'fc1' },
        { op: 'batchnorm', name: 'bn1', eps: 1e-5 },
        { op: 'activation', activation: { kind: 'relu' }, name: 'relu1' },
        { op: 'skip', name: 'drop1' },
        { op: 'linear', name: 'fc2' },
      ])
    }
  })
})

describe('special .pt files', () => {
  const S = join(FIX, 'special')
  const iris = ['linear', 'relu', 'linear']

  test.each(['f64', 'f16', 'bf16'])('iris state_dict saved as %s', async (tag) => {
    const f = await readPt(join(S, `iris_${tag}.pt`))
    const ir = buildModel(parseLayersSpec(iris, f.tensors, 'meta.json'), f.tensors, f.format)
    expectMatchesReference(ir, testInputs('iris_logits'), join(S, `iris_${tag}.reference.csv`))
  })

  test('float16 and bfloat16 weights widen exactly', async () => {
    const f32 = (await readPt(join(FIX, 'iris_logits', 'model.state_dict.pt'))).tensors.get('fc1.weight')!.data
    const h = (await readPt(join(S, 'iris_f16.pt'))).tensors.get('fc1.weight')!.data
    const b = (await readPt(join(S, 'iris_bf16.pt'))).tensors.get('fc1.weight')!.data
    f32.forEach((v, i) => {
      expect(Math.abs(h[i]! - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 2 ** -24)
      expect(Math.abs(b[i]! - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -8)
    })
    expect(halfToFloat(0x3c00)).toBe(1)
    expect(halfToFloat(0xc000)).toBe(-2)
    expect(halfToFloat(0x0001)).toBe(2 ** -24)
    expect(halfToFloat(0x7bff)).toBe(65504)
  })

  test('non-contiguous views (transposed, offset, shared storage) read as PyTorch sees them', async () => {
    const v = await readPt(join(S, 'view_strided.pt'))
    const base = await readPt(join(FIX, 'iris_logits', 'model.state_dict.pt'))
    for (const [k, t] of base.tensors) {
      expect(v.tensors.get(k)!.shape).toEqual(t.shape)
      expect(Array.from(v.tensors.get(k)!.data)).toEqual(Array.from(t.data))
    }
  })

  test('legacy (non-zip) torch.save files are read', async () => {
    const base = await baseIR('iris_logits')
    const sd = await readPt(join(S, 'legacy.pt'))
    expect(sd.format).toBe('state_dict-pt')
    expectSameIR(buildModel(parseLayersSpec(iris, sd.tensors, 'meta.json'), sd.tensors, sd.format), base, { tol: 0 })
    const whole = await readPt(join(S, 'legacy.whole.pt'))
    expect(whole.format).toBe('whole-model-pt')
    expectSameIR(buildModel(whole.steps!, whole.tensors, whole.format), base, { tol: 0 })
  })

  test('a training checkpoint: the state_dict under model_state_dict', async () => {
    const f = await readPt(join(S, 'checkpoint.pt'))
    expect(f.format).toBe('state_dict-pt')
    expectSameIR(buildModel(parseLayersSpec(iris, f.tensors, 'meta.json'), f.tensors, f.format), await baseIR('iris_logits'), { tol: 0 })
  })

  test('plain and nested Sequentials name steps by their state_dict prefixes', async () => {
    const ref = await baseIR('iris_softmax')
    const cases: [string, string[]][] = [
      ['iris_plain.whole.pt', ['0', '2']],
      ['iris_plain.script.pt', ['0', '2']],
      ['iris_nested.whole.pt', ['net.0', 'head.0']],
      ['iris_nested.trace.pt', ['net.0', 'head.0']],
    ]
    for (const [name, linears] of cases) {
      const f = await readPt(join(S, name))
      const ir = buildModel(f.steps!, f.tensors, f.format)
      expect(ir.layers.map((l) => l.name)).toEqual(linears)
      expectSameIR(ir, ref, { names: false, tol: 0 })
      expectMatchesReference(ir, testInputs('iris_softmax'), join(FIX, 'iris_softmax', 'reference.csv'))
    }
  })

  test.each([
    ['gru.whole.pt', /GRU/, /'rnn'/],
  ] as const)('%s: unsupported layer named with its module path', async (name, layer, path) => {
    const e = await expectModelError(readPt(join(S, name)), layer, path)
    expect(e.where).toBe(join(S, name))
    expect(e.hint).toMatch(/Linear/)
  })

  test('lstm.trace.pt: a custom module around an LSTM is read from its TorchScript code (torch.slice/select = out[:, -1, :], batch_first from torch.lstm\'s arguments)', async () => {
    const f = await readPt(join(S, 'lstm.trace.pt'))
    expect(f.orderUnknown).toBeUndefined()
    expect(f.steps).toEqual([{ op: 'lstm', name: 'lstm', batchFirst: true, readout: [{ out: -1 }] }, { op: 'linear', name: 'fc' }])
    expect(f.tensors.has('lstm.weight_ih_l0')).toBe(true)
  })

  test.each(['conv.whole.pt', 'conv.trace.pt'])('%s: a Conv1d nested at module path 0.0 is read (with the input shape)', async (name) => {
    const f = await readPt(join(S, name))
    const ir = buildModel(f.steps!, f.tensors, f.format, name, [1, 8])
    expect(ir.tensorLayers!.map((l) => [l.name, l.kind, l.outShape, l.activation.kind])).toEqual([['0.0', 'conv', [2, 6], 'relu']])
    expect(() => buildModel(f.steps!, f.tensors, f.format, name)).toThrow(/input shape is not known/)
  })

  test('truncated archive → ModelError', async () => {
    const e = await expectModelError(readPt(join(S, 'truncated.pt')), /truncated or corrupt/)
    expect(e.where).toBe(join(S, 'truncated.pt'))
  })

  test('every truncation point and a flipped byte are caught', () => {
    const raw = new Uint8Array(readFileSync(join(FIX, 'iris_logits', 'model.state_dict.pt')))
    for (let cut = 0; cut < raw.length; cut += 97) {
      expect(() => readPtBytes(raw.subarray(0, cut), 'cut.pt')).toThrow(ModelError)
    }
    // flip a byte inside the first storage: the CRC-32 check catches it
    const bad = raw.slice()
    const at = new TextDecoder('latin1').decode(raw).indexOf('data/0') + 200
    bad[at]! ^= 0xff
    expect(() => readPtBytes(bad, 'flip.pt')).toThrow(ModelError)
  })

  test('not a PyTorch file, or missing', async () => {
    await expectModelError(() => readPtBytes(new TextEncoder().encode('hello world'), 'x.pt'), /not a PyTorch file/)
    await expectModelError(() => readPtBytes(new Uint8Array(), 'x.pt'), /not a PyTorch file/)
    await expectModelError(readPt(join(S, 'does-not-exist.pt')), /cannot read/)
    // an ONNX file given to the .pt reader
    await expectModelError(readPt(join(FIX, 'iris_logits', 'model.onnx')), /not a PyTorch file/)
  })
})

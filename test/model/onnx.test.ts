import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ModelError } from '../../src/errors/base.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { onnxRoot, readOnnx } from '../../src/model/readOnnx.ts'
import { forward, maxAbsDiff, readCsv } from './helpers.ts'

const FIXTURES = path.resolve(import.meta.dir, '../fixtures')
const OWN = path.join(FIXTURES, 'onnx-own')
const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-onnx-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function errorOf(p: Promise<unknown>): Promise<ModelError> {
  try {
    await p
  } catch (e) {
    expect(e).toBeInstanceOf(ModelError)
    return e as ModelError
  }
  throw new Error('expected a ModelError')
}

// ---- building small ONNX models by hand (for cases torch.onnx.export does not produce) ----
type T = { name: string; dims: number[]; data: number[]; dtype?: 'float' | 'float_data' | 'double' | 'float16' }
function tensor({ name, dims, data, dtype = 'float' }: T): object {
  if (dtype === 'float_data') return { name, dims, data_type: 1, float_data: data }
  if (dtype === 'double') return { name, dims, data_type: 11, double_data: data }
  if (dtype === 'float16') {
    const raw = new Uint8Array(data.length * 2)
    const v = new DataView(raw.buffer)
    data.forEach((x, i) => v.setUint16(i * 2, toHalf(x), true))
    return { name, dims, data_type: 10, raw_data: raw }
  }
  const raw = new Uint8Array(data.length * 4)
  const v = new DataView(raw.buffer)
  data.forEach((x, i) => v.setFloat32(i * 4, x, true))
  return { name, dims, data_type: 1, raw_data: raw }
}
function toHalf(x: number): number {
  // exact for the small dyadic values used here
  if (x === 0) return 0
  const s = x < 0 ? 0x8000 : 0
  const a = Math.abs(x)
  const e = Math.floor(Math.log2(a))
  const m = Math.round((a / 2 ** e - 1) * 1024)
  return s | ((e + 15) << 10) | m
}
type N = { op: string; inputs: string[]; outputs: string[]; name?: string; attrs?: Record<string, { f?: number; i?: number; t?: object }> }
function model(nodes: N[], inits: T[], input = 'x', output = 'y', extraInputs: string[] = []): Uint8Array {
  const ModelProto = onnxRoot().lookupType('onnx.ModelProto')
  const msg = ModelProto.fromObject({
    ir_version: 7,
    producer_name: 'test',
    opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'g',
      node: nodes.map((n) => ({
        op_type: n.op,
        input: n.inputs,
        output: n.outputs,
        name: n.name ?? '',
        attribute: Object.entries(n.attrs ?? {}).map(([name, a]) => ({ name, ...a, type: a.f !== undefined ? 1 : a.t ? 4 : 2 })),
      })),
      initializer: inits.map(tensor),
      input: [input, ...extraInputs].map((name) => ({ name })),
      output: [{ name: output }],
    },
  })
  return ModelProto.encode(msg).finish()
}
let k = 0
function write(bytes: Uint8Array, ext = '.onnx'): string {
  const f = path.join(dir, `m${k++}${ext}`)
  writeFileSync(f, bytes)
  return f
}

/**
 * The PyTorch-exported MLP fixtures (the CNNs, cnn_*, have their own test: cnn-fixtures.test.ts), named here rather than discovered: a missing fixture (or file of one) fails
 * its tests instead of silently dropping them, and a fixture folder not listed here fails the first test.
 */
const MODEL_FIXTURES = ['bc_sigmoid', 'diabetes_reg', 'digits_bn', 'iris_logits', 'iris_softmax', 'wine_tanh_leaky']
const FORMAT_FILES = ['meta.json', 'weights.json', 'model.py', 'model.onnx', 'reference.csv', 'test.csv', 'model.state_dict.pt', 'model.safetensors', 'model.whole.pt', 'model.trace.pt', 'model.script.pt']

describe('the model fixtures', () => {
  test('every listed fixture has every file, and every fixture folder with a model is listed', () => {
    const missing = MODEL_FIXTURES.flatMap((d) => FORMAT_FILES.map((f) => path.join(d, f))).filter((f) => !existsSync(path.join(FIXTURES, f)))
    expect(missing).toEqual([])
    const found = readdirSync(FIXTURES).filter((d) => !d.startsWith('cnn_') && existsSync(path.join(FIXTURES, d, 'model.onnx')) && existsSync(path.join(FIXTURES, d, 'meta.json')))
    expect(found.sort()).toEqual([...MODEL_FIXTURES].sort())
  })
})

describe('readOnnx on torch.onnx.export fixtures', () => {
  for (const d of MODEL_FIXTURES) {
    test(`${d}: ONNX forward pass matches PyTorch (reference.csv) within 1e-5`, async () => {
      const ir = await loadModel({ path: path.join(FIXTURES, d, 'model.onnx') })
      expect(ir.format).toBe('onnx')
      const data = readCsv(path.join(FIXTURES, d, 'test.csv'))
      const labelCol = data.header.indexOf('label')
      const ref = readCsv(path.join(FIXTURES, d, 'reference.csv'))
      expect(ref.rows.length).toBeGreaterThan(0)
      for (const row of ref.rows) {
        const x = data.rows[row[0]!]!.filter((_, c) => c !== labelCol)
        expect(x.length).toBe(ir.inputSize)
        expect(maxAbsDiff(forward(ir, x), row.slice(1))).toBeLessThanOrEqual(1e-5)
      }
    })
    const weights = path.join(FIXTURES, d, 'weights.json')
    const source = path.join(FIXTURES, d, 'model.py')
    const meta = path.join(FIXTURES, d, 'meta.json')
    test(`${d}: ONNX IR equals weights.json + model.py and weights.json + model.layers`, async () => {
      const { class: cls, layers } = JSON.parse(readFileSync(meta, 'utf8'))
      const fromOnnx = await loadModel({ path: path.join(FIXTURES, d, 'model.onnx') })
      const fromSource = await loadModel({ path: weights, source, class: cls })
      const fromLayers = await loadModel({ path: weights, layers })
      expect(fromLayers.layers).toEqual(fromSource.layers)
      expect(fromOnnx.layers.map((l) => [l.name, l.activation])).toEqual(fromSource.layers.map((l) => [l.name, l.activation]))
      fromOnnx.layers.forEach((l, i) => {
        const s = fromSource.layers[i]!
        expect(maxAbsDiff(l.weight.flat(), s.weight.flat())).toBeLessThan(1e-9)
        expect(maxAbsDiff(l.bias, s.bias)).toBeLessThan(1e-9)
      })
    })
  }
})

describe('readOnnx on own exports (Flatten via Shape/Gather/Concat/Reshape, BatchNorm, MatMul+Add, float64)', () => {
  const cases = JSON.parse(readFileSync(path.join(OWN, 'cases.json'), 'utf8')) as Record<string, { inputs: number[][]; outputs: number[][] }>
  for (const [name, c] of Object.entries(cases)) {
    test(name, async () => {
      const ir = await loadModel({ path: path.join(OWN, `${name}.onnx`) })
      c.inputs.forEach((x, i) => expect(maxAbsDiff(forward(ir, x), c.outputs[i]!)).toBeLessThanOrEqual(1e-5))
    })
  }
  test('layer names come from initializers or node names', async () => {
    expect((await loadModel({ path: path.join(OWN, 'seq.onnx') })).layers.map((l) => l.name)).toEqual(['0', '2'])
    expect((await loadModel({ path: path.join(OWN, 'flat.onnx') })).layers.map((l) => l.name)).toEqual(['fc1', 'fc2', 'fc3'])
    const m = await readOnnx(path.join(OWN, 'matmul.onnx'))
    expect(m.steps!.filter((s) => s.op === 'linear').map((s) => (s as { name: string }).name)).toEqual(['MatMul', 'out'])
    expect(m.tensors.get('MatMul.weight')!.shape).toEqual([4, 3])
    const flat = await readOnnx(path.join(OWN, 'flat.onnx'))
    expect(flat.steps!.find((s) => s.op === 'batchnorm')).toEqual({ op: 'batchnorm', name: 'bn0', eps: 1e-3 })
  })
})

describe('readOnnx on hand-built graphs', () => {
  test('Gemm with alpha, beta, transB=0, float_data; LeakyRelu default alpha; float16 and double tensors', async () => {
    const f = write(
      model(
        [
          { op: 'Gemm', inputs: ['x', 'W', 'C'], outputs: ['h'], name: 'dense', attrs: { alpha: { f: 2 }, beta: { f: 0.5 } } },
          { op: 'LeakyRelu', inputs: ['h'], outputs: ['a'] },
          { op: 'MatMul', inputs: ['a', 'W2'], outputs: ['m'], name: '/head/MatMul' },
          { op: 'Add', inputs: ['B2', 'm'], outputs: ['z'] },
          { op: 'Cast', inputs: ['z'], outputs: ['y'], attrs: { to: { i: 1 } } },
        ],
        [
          { name: 'W', dims: [2, 3], data: [1, 2, 3, 4, 5, 6], dtype: 'float_data' }, // [in=2, out=3]
          { name: 'C', dims: [3], data: [1, 1, -2], dtype: 'double' },
          { name: 'W2', dims: [3, 1], data: [0.5, -0.25, 1.5], dtype: 'float16' },
          { name: 'B2', dims: [1], data: [0.125], dtype: 'float16' },
        ],
      ),
    )
    const ir = await loadModel({ path: f })
    expect(ir.layers.map((l) => l.name)).toEqual(['dense', 'head'])
    expect(ir.layers[0]!.weight).toEqual([
      [2, 8],
      [4, 10],
      [6, 12],
    ])
    expect(ir.layers[0]!.bias).toEqual([0.5, 0.5, -1])
    expect(ir.layers[0]!.activation).toEqual({ kind: 'leaky_relu', slope: 0.01 })
    expect(ir.layers[1]!.weight).toEqual([[0.5, -0.25, 1.5]])
    expect(ir.layers[1]!.bias).toEqual([0.125])
  })

  test('a transposed weight initializer feeding MatMul keeps the weight name', async () => {
    const f = write(
      model(
        [
          { op: 'Transpose', inputs: ['fc.weight'], outputs: ['wt'], attrs: {} },
          { op: 'MatMul', inputs: ['x', 'wt'], outputs: ['m'] },
          { op: 'Add', inputs: ['m', 'fc.bias'], outputs: ['y'] },
        ],
        [
          { name: 'fc.weight', dims: [1, 2], data: [3, 4] },
          { name: 'fc.bias', dims: [1], data: [1] },
        ],
      ),
    )
    const ir = await loadModel({ path: f })
    expect(ir.layers).toEqual([{ name: 'fc', weight: [[3, 4]], bias: [1], activation: { kind: 'identity' } }])
  })

  test('unsupported ops name the op type and node, and list the supported ops', async () => {
    const f = write(model([{ op: 'Attention', inputs: ['x'], outputs: ['y'], name: 'attn_0' }], []))
    const e = await errorOf(readOnnx(f))
    expect(e.shortMessage).toBe("unsupported ONNX Attention node 'attn_0': attention layers are not supported")
    expect(e.hint).toContain('Gemm')
    expect(e.hint).toContain('BatchNormalization')
    expect(e.hint).toContain('Conv')
    // torch's LSTM export (batch_first, dynamic batch, out[:, -1]) is read since issue 20
    const lstm = await readOnnx(path.join(FIXTURES, 'special', 'lstm.onnx'))
    expect(lstm.steps?.[0]).toMatchObject({ op: 'lstm', name: 'lstm', hidden: 8, batchFirst: true })
    expect(lstm.inputShape).toEqual([5, 4])
  })

  test('a residual Add is read (issue 19 D); relu(h) + h (a pre-activation skip) is held, a returned sum refused', async () => {
    const f = write(
      model(
        [
          { op: 'Gemm', inputs: ['x', 'W'], outputs: ['h'], name: 'g', attrs: { transB: { i: 1 } } },
          { op: 'Relu', inputs: ['h'], outputs: ['r'] },
          { op: 'Add', inputs: ['r', 'h'], outputs: ['y'], name: 'skip_add' },
        ],
        [{ name: 'W', dims: [2, 2], data: [1, 0, 0, 1] }],
      ),
    )
    const read = await readOnnx(f)
    expect(read.steps!.at(-1)).toMatchObject({ op: 'join', kind: 'add', name: 'skip_add' })
    const e = await errorOf(loadModel({ path: f }))
    // h is needed both before and after its ReLU: relu(h) becomes a value of its own (an identity layer
    // reading relu(g), issue 19 norms); the model then returns a sum, which still needs a Linear after it
    expect(e.shortMessage).toBe("the model returns 'value1' + 'g', a residual sum or concatenation")
  })

  test('a Concat along the batch axis and a Mul of two computed tensors are still refused, naming the node', async () => {
    const graph = (op: string, attrs: Record<string, { i?: number }>) =>
      write(model([{ op: 'Gemm', inputs: ['x', 'W'], outputs: ['h'], name: 'g', attrs: { transB: { i: 1 } } }, { op: 'Relu', inputs: ['h'], outputs: ['r'] }, { op, inputs: ['r', 'h'], outputs: ['y'], name: 'j', attrs }], [{ name: 'W', dims: [2, 2], data: [1, 0, 0, 1] }]))
    expect((await errorOf(readOnnx(graph('Concat', { axis: { i: 0 } })))).shortMessage).toContain("Concat node 'j'")
    expect((await errorOf(readOnnx(graph('Mul', {})))).shortMessage).toContain("Mul node 'j'")
  })

  test('two data inputs are rejected', async () => {
    const f = write(model([{ op: 'Relu', inputs: ['x'], outputs: ['y'] }], [], 'x', 'y', ['x2']))
    expect((await errorOf(readOnnx(f))).shortMessage).toContain('2 data inputs')
  })

  test('corrupt and truncated files give one clear ModelError', async () => {
    const good = readFileSync(path.join(OWN, 'flat.onnx'))
    for (const bytes of [good.subarray(0, Math.floor(good.length / 2)), good.subarray(0, 20), new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]), new TextEncoder().encode('hello, not onnx')]) {
      const e = await errorOf(readOnnx(write(bytes)))
      expect(e.shortMessage).toMatch(/^not a valid ONNX (file|model)/)
      expect(e.hint).toContain('truncated or corrupt')
    }
  })
})

describe('loadModel dispatch', () => {
  test('missing file, unknown extension, weights only', async () => {
    const missing = await errorOf(loadModel({ path: path.join(dir, 'nope.onnx') }))
    expect(missing.shortMessage).toContain('file not found')
    expect(missing.hint).toContain('model.path')
    const odd = write(new Uint8Array([1]), '.h5')
    expect((await errorOf(loadModel({ path: odd }))).shortMessage).toContain("unknown model file type '.h5'")
    const w = write(new TextEncoder().encode('{"fc.weight": [[1, 2]], "fc.bias": [0]}'), '.json')
    const only = await errorOf(loadModel({ path: w }))
    expect(only.shortMessage).toBe(`${path.basename(w)} holds only weights (a state_dict); say how they connect`)
    expect(only.hint).toContain('model.layers')
    expect((await loadModel({ path: w, layers: ['linear', 'sigmoid'] })).layers[0]!.activation).toEqual({ kind: 'sigmoid' })
    const noSource = await errorOf(loadModel({ path: w, source: path.join(dir, 'missing.py') }))
    expect(noSource.shortMessage).toContain('model.source: file not found')
  })

  test('model.source wins over the ONNX graph; model.layers too', async () => {
    const py = write(new TextEncoder().encode('class S(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.l0 = nn.Linear(4, 8)\n        self.l2 = nn.Linear(8, 3)\n    def forward(self, x):\n        return self.l2(torch.tanh(self.l0(x)))\n'), '.py')
    // the ONNX tensors are named 0.* and 2.*, so a source naming l0/l2 must fail on the missing tensors: it was used
    expect((await errorOf(loadModel({ path: path.join(OWN, 'seq.onnx'), source: py }))).shortMessage).toContain("missing tensor 'l0.weight'")
    const ir = await loadModel({ path: path.join(OWN, 'seq.onnx'), layers: ['linear', 'tanh', 'linear'] })
    expect(ir.layers.map((l) => l.activation.kind)).toEqual(['tanh', 'identity'])
  })
})

describe('loadModel: every format of a fixture gives the same IR', () => {
  for (const d of MODEL_FIXTURES) {
    test(d, async () => {
      const at = (f: string) => path.join(FIXTURES, d, f)
      const { class: cls, layers } = JSON.parse(readFileSync(at('meta.json'), 'utf8'))
      const base = await loadModel({ path: at('weights.json'), source: at('model.py'), class: cls })
      const specs = [
        { path: at('model.onnx') },
        { path: at('model.state_dict.pt'), source: at('model.py'), class: cls },
        { path: at('model.state_dict.pt'), layers },
        { path: at('model.safetensors'), layers },
        { path: at('model.whole.pt'), source: at('model.py'), class: cls },
        { path: at('model.trace.pt') },
        { path: at('model.script.pt') },
      ]
      for (const spec of specs) {
        const ir = await loadModel(spec)
        expect([spec.path, ir.layers.map((l) => [l.name, l.activation])]).toEqual([spec.path, base.layers.map((l) => [l.name, l.activation])])
        ir.layers.forEach((l, i) => {
          expect(maxAbsDiff(l.weight.flat(), base.layers[i]!.weight.flat())).toBeLessThan(1e-9)
          expect(maxAbsDiff(l.bias, base.layers[i]!.bias)).toBeLessThan(1e-9)
        })
      }
    })
  }
})

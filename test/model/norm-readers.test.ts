// Issue 19 (norms): LayerNorm, GroupNorm and BatchNorm anywhere in a dense graph model, and activations
// and norms on a residual sum or torch.cat, read from model.py + state_dict and from ONNX (opset 13's
// ReduceMean pattern, opset 17's LayerNormalization). The fixtures come from real PyTorch
// (scripts/make-norm-fixtures.py); each reader's float pass is checked against PyTorch's own outputs.
import { describe, expect, test } from 'bun:test'
import path from 'node:path'
import { ModelError } from '../../src/errors/base.ts'
import { buildModel, describeActivation } from '../../src/ir/buildModel.ts'
import type { TensorMap } from '../../src/ir/types.ts'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { parseModuleSource } from '../../src/model/parseModuleSource.ts'
import { readOnnx } from '../../src/model/readOnnx.ts'
import { readAllRows } from '../../src/data/readCsv.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { pytorchOutputs } from '../helpers/pytorchOutputs.ts'

const GRAPH = path.join(FIXTURES, 'graph')
const shape = (m: Awaited<ReturnType<typeof loadModel>>) =>
  m.layers.map((l) => [l.name, describeActivation(l.activation), l.input ? { ...l.input, ...(l.input.post ? { post: describeActivation(l.input.post) } : {}) } : null]) as unknown[][]

async function worstVsPytorch(name: string, file?: string): Promise<number> {
  const d = path.join(GRAPH, name)
  const m = await loadModel(file ? { path: path.join(d, file) } : { path: path.join(d, 'model.state_dict.pt'), source: path.join(d, 'model.py') })
  const rows = (await readAllRows(path.join(d, 'test.csv'), { label: 'label' })).features
  const ref = pytorchOutputs(d)
  let worst = 0
  rows.forEach((r, i) => referenceForward(m, r).forEach((v, j) => (worst = Math.max(worst, Math.abs(v - ref[i]![j]!)))))
  return worst
}

async function errorOf(p: Promise<unknown> | (() => unknown)): Promise<ModelError> {
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (e) {
    if (e instanceof ModelError) return e
    throw e
  }
  throw new Error('expected a ModelError')
}

describe('norm layers from model.py and ONNX', () => {
  test('ln_residual_wine: x = ln(x + f(x)) twice; the second block reads the first as a value (an identity layer with γ/β folded in); float within 1e-5 of PyTorch from every format', async () => {
    const src = await loadModel({ path: path.join(GRAPH, 'ln_residual_wine', 'model.state_dict.pt'), source: path.join(GRAPH, 'ln_residual_wine', 'model.py') })
    expect(shape(src)).toEqual([
      ['fc_in', 'relu', null],
      ['f.0', 'relu', null],
      ['f.2', 'identity', null],
      ['value1', 'identity', { op: 'add', values: [1, 3], post: 'layer_norm(eps 0.00001)' }],
      ['f2', 'relu', null],
      ['out', 'identity', { op: 'add', values: [4, 5], post: 'layer_norm(eps 0.00001)' }],
    ])
    for (const file of ['model.onnx', 'model.opset17.onnx']) {
      const onnx = await loadModel({ path: path.join(GRAPH, 'ln_residual_wine', file) })
      expect(onnx.layers.map((l) => [l.name, l.input?.values ?? null, l.input?.post?.kind ?? null])).toEqual(src.layers.map((l) => [l.name, l.input?.values ?? null, l.input?.post?.kind ?? null]))
      expect(await worstVsPytorch('ln_residual_wine', file)).toBeLessThan(1e-5)
    }
    expect(await worstVsPytorch('ln_residual_wine')).toBeLessThan(1e-5)
    // the ONNX readers name what they read: the opset-13 decomposition is one norm step
    const read = await readOnnx(path.join(GRAPH, 'ln_residual_wine', 'model.onnx'))
    expect(JSON.stringify(read.steps)).toContain('"op":"norm","name":"ln","what":"LayerNorm"')
  })

  test('norm_digits: BatchNorm after an activation folds into both next Linears; GroupNorm → ReLU keeps γ/β on chain; BatchNorm on a torch.cat then ReLU runs per feature', async () => {
    const m = await loadModel({ path: path.join(GRAPH, 'norm_digits', 'model.state_dict.pt'), source: path.join(GRAPH, 'norm_digits', 'model.py') })
    expect(shape(m)).toEqual([
      ['fc1', 'relu', null],
      ['fc2', 'group_norm(4, eps 0.00001) → batchnorm(24) → relu', null],
      ['fc3', 'tanh', { op: 'concat', values: [1] }],
      ['out', 'identity', { op: 'concat', values: [2, 3], post: 'batchnorm(32) → relu' }],
    ])
    expect(await worstVsPytorch('norm_digits')).toBeLessThan(1e-4)
  })

  test('ONNX GroupNorm (InstanceNormalization pattern) is refused in one line naming GroupNorm', async () => {
    const e = await errorOf(loadModel({ path: path.join(GRAPH, 'gn_unsqueeze.onnx') }))
    expect(e.shortMessage).toBe("unsupported ONNX InstanceNormalization node '/gn/InstanceNormalization' (PyTorch GroupNorm, InstanceNormalization pattern)")
    expect(e.hint).toContain('nn.GroupNorm from model.py')
  })
})

/** A state_dict of Linears [out, in] plus extra tensors. */
function tensors(spec: Record<string, [number, number]>, extra: Record<string, number[]> = {}): TensorMap {
  const m: TensorMap = new Map()
  for (const [name, [o, i]] of Object.entries(spec)) {
    m.set(`${name}.weight`, { shape: [o, i], data: Float64Array.from({ length: o * i }, (_, k) => ((k * 7) % 23) * 0.02 - 0.2) })
    m.set(`${name}.bias`, { shape: [o], data: Float64Array.from({ length: o }, (_, k) => 0.05 * k - 0.1) })
  }
  for (const [k, v] of Object.entries(extra)) m.set(k, { shape: [v.length], data: Float64Array.from(v) })
  return m
}
const cls = (init: string[], fwd: string[]) =>
  `import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\nclass C(nn.Module):\n    def __init__(self):\n        super().__init__()\n${init.map((l) => `        ${l}\n`).join('')}\n    def forward(self, x):\n${fwd.map((l) => `        ${l}\n`).join('')}`
const build = (src: string, t: TensorMap) => buildModel(parseModuleSource(src, 'C', 'm.py'), t, 'state_dict-pt', 'm.py')
const ln = (x: number[], eps = 1e-5) => {
  const m = x.reduce((a, b) => a + b, 0) / x.length
  const v = x.reduce((a, b) => a + (b - m) ** 2, 0) / x.length
  return x.map((e) => (e - m) / Math.sqrt(v + eps))
}
const lin = (t: TensorMap, name: string, x: number[]) => {
  const w = t.get(`${name}.weight`)!
  const [o, i] = w.shape as [number, number]
  return Array.from({ length: o }, (_, r) => x.reduce((s, xv, c) => s + w.data[r * i + c]! * xv, t.get(`${name}.bias`)!.data[r]!))
}

describe('norm layers in forward(): positions and refusals', () => {
  test('F.layer_norm with nn.Parameter γ, LayerNorm(elementwise_affine=False) then an activation, F.relu on a torch.cat', () => {
    const t = tensors({ a: [4, 3], b: [4, 3], out: [2, 8] }, { g: [1, 2, 0.5, -1, 1, 1, 2, 3] })
    const init = ['self.a = nn.Linear(3, 4)', 'self.b = nn.Linear(3, 4)', 'self.ln = nn.LayerNorm(4, elementwise_affine=False)', 'self.g = nn.Parameter(torch.ones(8))', 'self.out = nn.Linear(8, 2)']
    const m = build(cls(init, ['p = torch.tanh(self.ln(self.a(x)))', 'q = self.b(x)', 'h = F.relu(torch.cat([p, q], dim=1))', 'return self.out(F.layer_norm(h, (8,), self.g, None, 1e-6))']), t)
    expect(m.layers.map((l) => [l.name, describeActivation(l.activation)])).toEqual([['a', 'layer_norm(eps 0.00001) → tanh'], ['b', 'identity'], ['out', 'identity']])
    expect(m.layers[2]!.input!.post!.kind).toBe('seq')
    const x = [0.5, -1, 2]
    const h = [...ln(lin(t, 'a', x)).map(Math.tanh), ...lin(t, 'b', x)].map((v) => Math.max(0, v))
    const z = ln(h, 1e-6).map((v, i) => v * t.get('g')!.data[i]!)
    const want = lin(t, 'out', z)
    referenceForward(m, x).forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-12))
  })

  test('BatchNorm1d first (folds into the first Linear), at the end (per feature on chain), and on a residual sum before the head (folds into it)', () => {
    const bn = (n: number, p: string) => ({ [`${p}.running_mean`]: Array.from({ length: n }, (_, i) => 0.1 * i), [`${p}.running_var`]: Array.from({ length: n }, (_, i) => 1 + 0.5 * i), [`${p}.weight`]: Array.from({ length: n }, (_, i) => 1 - 0.1 * i), [`${p}.bias`]: Array.from({ length: n }, (_, i) => 0.2 * i) })
    const t = tensors({ a: [4, 3], f: [4, 4], out: [2, 4] }, { ...bn(3, 'b0'), ...bn(4, 'b1'), ...bn(2, 'b2') })
    const init = ['self.b0 = nn.BatchNorm1d(3)', 'self.a = nn.Linear(3, 4)', 'self.f = nn.Linear(4, 4)', 'self.b1 = nn.BatchNorm1d(4)', 'self.out = nn.Linear(4, 2)', 'self.b2 = nn.BatchNorm1d(2)']
    const m = build(cls(init, ['h = F.relu(self.a(self.b0(x)))', 'h = self.b1(h + self.f(h))', 'return self.b2(torch.sigmoid(self.out(h)))']), t)
    expect(m.layers.map((l) => [l.name, describeActivation(l.activation), l.input?.post?.kind ?? null])).toEqual([['a', 'relu', null], ['f', 'identity', null], ['out', 'sigmoid → batchnorm(2)', null]])
    const norm = (x: number[], p: string) => x.map((v, i) => ((v - t.get(`${p}.running_mean`)!.data[i]!) / Math.sqrt(t.get(`${p}.running_var`)!.data[i]! + 1e-5)) * t.get(`${p}.weight`)!.data[i]! + t.get(`${p}.bias`)!.data[i]!)
    const x = [0.3, -0.7, 1.1]
    const h = lin(t, 'a', norm(x, 'b0')).map((v) => Math.max(0, v))
    const s = norm(h.map((v, i) => v + lin(t, 'f', h)[i]!), 'b1')
    const want = norm(lin(t, 'out', s).map((v) => 1 / (1 + Math.exp(-v))), 'b2')
    referenceForward(m, x).forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-12))
  })

  test('refusals name the layer: a LayerNorm over two dims, GroupNorm groups that do not divide, a norm before any Linear, softmax on a sum', async () => {
    const t = tensors({ a: [4, 3], out: [2, 4] })
    let e = await errorOf(() => build(cls(['self.a = nn.Linear(3, 4)', 'self.ln = nn.LayerNorm((2, 2))', 'self.out = nn.Linear(4, 2)'], ['return self.out(self.ln(self.a(x)))']), t))
    expect(e.shortMessage).toBe('LayerNorm over (2, 2) at m.py:9: ml2sc normalises over the last dim of a (batch, features) tensor only')
    e = await errorOf(() => build(cls(['self.a = nn.Linear(3, 4)', 'self.gn = nn.GroupNorm(3, 4, affine=False)', 'self.out = nn.Linear(4, 2)'], ['return self.out(self.gn(self.a(x)))']), t))
    expect(e.shortMessage).toBe("GroupNorm 'gn': 4 channels do not split into 3 groups")
    e = await errorOf(() => build(cls(['self.ln = nn.LayerNorm(3, elementwise_affine=False)', 'self.a = nn.Linear(3, 4)', 'self.out = nn.Linear(4, 2)'], ['return self.out(self.a(self.ln(x)))']), t))
    expect(e.shortMessage).toBe("LayerNorm 'ln' comes before any Linear layer")
    const t2 = tensors({ a: [4, 3], f: [4, 4], out: [2, 4] })
    e = await errorOf(() => build(cls(['self.a = nn.Linear(3, 4)', 'self.f = nn.Linear(4, 4)', 'self.out = nn.Linear(4, 2)'], ['h = self.a(x)', 'h = F.softmax(h + self.f(h), dim=1)', 'return self.out(h)']), t2))
    expect(e.shortMessage).toBe("softmax is only supported on the last layer (found on what 'out' reads)")
  })
})

// Issue 19 part D: residual adds and torch.cat in a forward() (module-source reader) become the IR's graph
// shape (ir/layerInput.ts): which values each layer reads, checked on hand-written sources with made-up
// weights; and the clear refusals of the shapes the IR does not hold.
import { describe, expect, test } from 'bun:test'
import { ModelError } from '../../src/errors/base.ts'
import { buildModel } from '../../src/ir/buildModel.ts'
import type { TensorMap } from '../../src/ir/types.ts'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import { parseModuleSource } from '../../src/model/parseModuleSource.ts'

/** A state_dict with Linear `name` of shape [out, in] (weights i·0.01 − 0.1, biases 0.05). */
function linears(spec: Record<string, [number, number]>): TensorMap {
  const m: TensorMap = new Map()
  for (const [name, [o, i]] of Object.entries(spec)) {
    m.set(`${name}.weight`, { shape: [o, i], data: Float64Array.from({ length: o * i }, (_, k) => ((k * 7) % 23) * 0.01 - 0.1) })
    m.set(`${name}.bias`, { shape: [o], data: new Float64Array(o).fill(0.05) })
  }
  return m
}
const cls = (init: string[], fwd: string[]) =>
  `import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\nclass C(nn.Module):\n    def __init__(self):\n        super().__init__()\n${init.map((l) => `        ${l}\n`).join('')}\n    def forward(self, x):\n${fwd.map((l) => `        ${l}\n`).join('')}`
const build = (src: string, t: TensorMap) => buildModel(parseModuleSource(src, 'C', 'm.py'), t, 'state_dict-pt', 'm.py')
const inputs = (m: ReturnType<typeof build>) => m.layers.map((l) => [l.name, l.input ?? null])
function errorOf(f: () => unknown): ModelError {
  try {
    f()
  } catch (e) {
    if (e instanceof ModelError) return e
    throw e
  }
  throw new Error('expected a ModelError')
}

const relu = (v: number[]) => v.map((x) => Math.max(0, x))
const lin = (t: TensorMap, name: string, x: number[]) => {
  const w = t.get(`${name}.weight`)!
  const [o, i] = w.shape as [number, number]
  return Array.from({ length: o }, (_, r) => x.reduce((s, xv, c) => s + w.data[r * i + c]! * xv, t.get(`${name}.bias`)!.data[r]!))
}

describe('residual adds and torch.cat from forward()', () => {
  test('h = h + relu(fc(h)), h += relu(fc(h)), and a skip of the input: one sum per head, float pass as written', () => {
    const t = linears({ a: [5, 4], b: [5, 5], c: [5, 5], out: [2, 5] })
    const m = build(cls(['self.a = nn.Linear(4, 5)', 'self.b = nn.Linear(5, 5)', 'self.c = nn.Linear(5, 5)', 'self.out = nn.Linear(5, 2)'], ['h = F.relu(self.a(x))', 'h = h + F.relu(self.b(h))', 'h += F.relu(self.c(h))', 'return self.out(h)']), t)
    expect(inputs(m)).toEqual([
      ['a', null],
      ['b', null],
      ['c', { op: 'add', values: [1, 2] }],
      ['out', { op: 'add', values: [1, 2, 3] }],
    ])
    const x = [0.3, -1.2, 2, 0.5]
    const h1 = relu(lin(t, 'a', x))
    const h2 = h1.map((v, i) => v + relu(lin(t, 'b', h1))[i]!)
    const h3 = h2.map((v, i) => v + relu(lin(t, 'c', h2))[i]!)
    expect(referenceForward(m, x)).toEqual(lin(t, 'out', h3))
  })

  test('torch.cat of two branches and the input itself (dim=1, dim=-1, a tuple), in the order written', () => {
    const t = linears({ p: [3, 4], q: [2, 4], head: [2, 9] })
    for (const cat of ['torch.cat([x, a, b], dim=1)', 'torch.cat((x, a, b), -1)', 'torch.concat([x, a, b], dim=1)']) {
      const m = build(cls(['self.p = nn.Linear(4, 3)', 'self.q = nn.Linear(4, 2)', 'self.head = nn.Linear(9, 2)'], ['a = torch.tanh(self.p(x))', 'b = F.relu(self.q(x))', `return self.head(${cat})`]), t)
      expect(inputs(m)).toEqual([
        ['p', null],
        ['q', { op: 'concat', values: [0] }],
        ['head', { op: 'concat', values: [0, 1, 2] }],
      ])
      const x = [1, -0.5, 0.25, 2]
      expect(referenceForward(m, x)).toEqual(lin(t, 'head', [...x, ...lin(t, 'p', x).map(Math.tanh), ...relu(lin(t, 'q', x))]))
    }
  })

  test('an activation on a sum is the join\'s post op (issue 19 norms); refusals: a model that returns a sum, an add of unequal widths, a first layer on a cat', () => {
    const t = linears({ a: [4, 4], b: [4, 4], out: [2, 4] })
    const init = ['self.a = nn.Linear(4, 4)', 'self.b = nn.Linear(4, 4)', 'self.out = nn.Linear(4, 2)']
    const m = build(cls(init, ['h = F.relu(self.a(x))', 'h = F.relu(h + self.b(h))', 'return self.out(h)']), t)
    expect(inputs(m)).toEqual([['a', null], ['b', null], ['out', { op: 'add', values: [1, 2], post: { kind: 'relu' } }]])
    const x = [0.3, -1.2, 2, 0.5]
    const h = relu(lin(t, 'a', x))
    const want = lin(t, 'out', relu(h.map((v, i) => v + lin(t, 'b', h)[i]!)))
    referenceForward(m, x).forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-12))
    let e = errorOf(() => build(cls(init, ['h = F.relu(self.a(x))', 'h = self.out(F.relu(self.b(h)))', 'return h + h']), linears({ a: [4, 4], b: [4, 4], out: [4, 4] })))
    expect(e.shortMessage).toBe("the model returns 'out' + 'out', a residual sum or concatenation")
    e = errorOf(() => build(cls(init, ['h = F.relu(self.a(x))', 'h = h + F.relu(self.b(h))', 'return self.out(h)']), linears({ a: [4, 4], b: [3, 4], out: [2, 3] })))
    expect(e.shortMessage).toBe("the residual add 'a' + 'b' before 'out' adds values of widths 4 and 3")
    e = errorOf(() => build(cls(init, ['return self.out(torch.cat([x, x], dim=1))']), linears({ out: [2, 8] })))
    expect(e.shortMessage).toBe("the first Linear 'out' reads cat(the input, the input)")
  })

  test('(x - self.mean) / self.std and x * self.scale with registered buffers fold into the Linear next to them', () => {
    const t = linears({ fc: [2, 3], out: [1, 2] })
    t.set('mean', { shape: [3], data: Float64Array.from([1, -2, 0.5]) })
    t.set('std', { shape: [3], data: Float64Array.from([2, 0.5, 4]) })
    t.set('scale', { shape: [1], data: Float64Array.from([3]) })
    const init = ["self.register_buffer('mean', torch.zeros(3))", "self.register_buffer('std', torch.ones(3))", "self.register_buffer('scale', torch.ones(1))", 'self.fc = nn.Linear(3, 2)', 'self.out = nn.Linear(2, 1)']
    const m = build(cls(init, ['x = (x - self.mean) / self.std', 'h = self.fc(x) * self.scale', 'return self.out(F.relu(h))']), t)
    expect(m.layers.map((l) => l.name)).toEqual(['fc', 'out'])
    const x = [0.7, 1.5, -3]
    const z = x.map((v, i) => (v - [1, -2, 0.5][i]!) / [2, 0.5, 4][i]!)
    const want = lin(t, 'out', relu(lin(t, 'fc', z).map((v) => v * 3)))
    expect(Math.abs(referenceForward(m, x)[0]! - want[0]!)).toBeLessThan(1e-12)
    // a buffer not registered, or an operator other than - / *, stays a clear refusal
    const e = errorOf(() => build(cls(init, ['x = (x - self.mu) / self.std', 'return self.out(self.fc(x))']), t))
    expect(e.shortMessage).toBe("unsupported construct '(x - self.mu)' at m.py:15")
  })
})

describe('a deployed graph model pins its shape', () => {
  test('new weights for the same graph are accepted; another graph (or a chain) is refused with one line', async () => {
    const { makePlan } = await import('../../src/fixed/makePlan.ts')
    const { pinOf } = await import('../../src/fixed/types.ts')
    const t = linears({ a: [4, 3], b: [4, 4], out: [2, 4] })
    const init = ['self.a = nn.Linear(3, 4)', 'self.b = nn.Linear(4, 4)', 'self.out = nn.Linear(4, 2)']
    const res = build(cls(init, ['h = F.relu(self.a(x))', 'h = h + F.relu(self.b(h))', 'return self.out(h)']), t)
    const P = { fraction: 20, weightBytes: 2, inputBytes: 4 }
    const pin = pinOf(makePlan(res, P))
    expect(pin.graph).toBe(JSON.stringify([null, null, { op: 'add', values: [1, 2] }]))
    expect(makePlan(res, P, pin).layers[2]!.input).toEqual({ op: 'add', values: [1, 2] })
    const chainModel = build(cls(init, ['h = F.relu(self.a(x))', 'h = F.relu(self.b(h))', 'return self.out(h)']), t)
    for (const other of [chainModel]) expect(() => makePlan(other, P, pin)).toThrow('another graph shape')
    expect(() => makePlan(res, P, pinOf(makePlan(chainModel, P)))).toThrow('another graph shape')
  })
})

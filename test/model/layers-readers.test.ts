// Issue 19 (layers part), readers: the module-source reader settles constructor flags statically and
// inlines custom nn.Module blocks under their state_dict prefixes; nn.Embedding of input columns folds
// through the first Linear (exact in float); ceil_mode and adaptive pools get PyTorch's windows. Every
// fixture read from each format equals PyTorch's own outputs in float (scripts/make-layer-fixtures.py).
import { describe, expect, test } from 'bun:test'
import path from 'node:path'
import { ModelError } from '../../src/errors/base.ts'
import { buildModel } from '../../src/ir/buildModel.ts'
import { adaptiveSpans, ceilSpans } from '../../src/ir/poolSpans.ts'
import type { TensorMap } from '../../src/ir/types.ts'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { parseModuleSource } from '../../src/model/parseModuleSource.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { inspectTarget, renderInspect } from '../../src/commands/inspect.ts'
import { readCsv } from './helpers.ts'

const LAYERS = path.join(FIXTURES, 'layers')
const HEAD = 'import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n'
const names = (src: string, cls?: string) => JSON.stringify(parseModuleSource(HEAD + src, cls, 'm.py')).match(/"name":"[^"]*"/g)?.map((m) => m.slice(8, -1)) ?? []
function errorOf(f: () => unknown): ModelError {
  try {
    f()
  } catch (e) {
    if (e instanceof ModelError) return e
    throw e
  }
  throw new Error('expected a ModelError')
}

describe('module source: constructor flags and custom blocks', () => {
  const BLOCK = `class Block(nn.Module):
    def __init__(self, dim, use_skip=True, act="relu"):
        super().__init__()
        self.use_skip = use_skip
        self.fc = nn.Linear(dim, dim)
        self.norm = nn.BatchNorm1d(dim) if act == "bn" else nn.Identity()

    def forward(self, x):
        h = F.relu(self.norm(self.fc(x)))
        if self.use_skip:
            h = x + h
        return h
`
  test('flags from defaults and literal arguments choose submodules and forward branches; blocks get their prefixes', () => {
    const net = `${BLOCK}

class Net(nn.Module):
    def __init__(self, n_in=13, hidden=16, use_proj=True, depth=2):
        super().__init__()
        self.proj = nn.Linear(n_in, hidden) if use_proj else nn.Identity()
        self.blocks = nn.Sequential(Block(hidden), Block(hidden, use_skip=False, act="bn"))
        if depth > 2:
            self.extra = Block(hidden)
        elif not use_proj:
            self.extra = nn.Linear(hidden, hidden)
        else:
            self.extra = nn.Identity()
        self.head = nn.Linear(hidden, 3)

    def forward(self, x):
        x = F.relu(self.proj(x))
        x = self.blocks(x)
        x = self.extra(x)
        return self.head(x)
`
    // Block is built by Net, so Net is the model without model.class
    expect(names(net)).toEqual(['proj', 'blocks.0.fc', 'blocks.0.norm', 'x + h', 'blocks.1.fc', 'blocks.1.norm', 'extra', 'head'])
    const steps = parseModuleSource(HEAD + net, undefined, 'm.py')
    // the first block's `x + h` is a residual join; the second (use_skip=False) has none; act="bn" gives a BatchNorm
    expect(steps.filter((s) => s.op === 'join').length).toBe(1)
    expect(steps.find((s) => s.op === 'batchnorm')).toEqual({ op: 'batchnorm', name: 'blocks.1.norm', eps: 1e-5 })
    // (blocks.0.norm, an Identity, sits inside that join's branch)
    expect(steps.filter((s) => s.op === 'skip').map((s) => (s as { name: string }).name)).toEqual(['extra'])
  })

  test('a ternary in forward and `self.b1 = Block(...)` attributes', () => {
    const src = `${BLOCK}

class Net(nn.Module):
    def __init__(self, skip_head=False):
        super().__init__()
        self.skip_head = skip_head
        self.b1 = Block(8)
        self.b2 = Block(8, False)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        h = self.b2(self.b1(x))
        return h if self.skip_head else self.head(h)
`
    expect(names(src, 'Net')).toEqual(['b1.fc', 'b1.norm', 'x + h', 'b2.fc', 'b2.norm', 'head'])
  })

  test('conditions ml2sc cannot settle, and a block that builds itself, are refused in one line naming the place', () => {
    const tensorIf = `class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        if x.sum() > 0:
            x = -x
        return self.fc(x)
`
    const e = errorOf(() => parseModuleSource(HEAD + tensorIf, undefined, 'm.py'))
    expect(e.shortMessage).toBe("unsupported construct 'if x.sum() > 0' at m.py:11")
    expect(e.hint).toContain('constructor defaults')
    const noDefault = `class Net(nn.Module):
    def __init__(self, use_proj):
        super().__init__()
        self.proj = nn.Linear(4, 4) if use_proj else nn.Identity()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(self.proj(x))
`
    expect(errorOf(() => parseModuleSource(HEAD + noDefault, undefined, 'm.py')).shortMessage).toBe("unsupported construct 'if use_proj' at m.py:8")
    const loop = `class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.b = Net()

    def forward(self, x):
        return self.b(x)
`
    expect(errorOf(() => parseModuleSource(HEAD + loop, 'Net', 'm.py')).shortMessage).toContain("class 'Net' builds itself")
  })
})

describe('nn.Embedding: folded through the first Linear', () => {
  const SRC = `class T(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(3, 2)
        self.fc = nn.Linear(2 + 2, 1)

    def forward(self, x):
        h = torch.cat([x[:, 1:], self.emb(x[:, 0].long())], dim=1)
        return self.fc(h)
`
  const tensors = (): TensorMap =>
    new Map([
      ['emb.weight', { shape: [3, 2], data: Float64Array.from([1, 2, 3, 4, 5, 6]) }],
      ['fc.weight', { shape: [1, 4], data: Float64Array.from([0.5, -1, 10, 100]) }],
      ['fc.bias', { shape: [1], data: Float64Array.from([0.25]) }],
    ])
  test('the table becomes one weight column per category (W_E·E[c]), after the numeric columns', () => {
    const ir = buildModel(parseModuleSource(HEAD + SRC, undefined, 'm.py'), tensors(), 'state_dict-pt', 'm.py')
    expect(ir.inputSize).toBe(3)
    expect(ir.categorical).toEqual([{ column: 0, count: 3, name: 'emb' }])
    // expanded input: the numeric columns first, then each categorical column's one-hot block: [x1, x2, c=0, c=1, c=2]
    expect(ir.layers[0]!.weight).toEqual([[0.5, -1, 10 * 1 + 100 * 2, 10 * 3 + 100 * 4, 10 * 5 + 100 * 6]])
    // float reference: exactly PyTorch's cat-then-Linear
    expect(referenceForward(ir, [2, 1, 3])).toEqual([0.25 + 0.5 * 1 - 3 + 10 * 5 + 100 * 6])
    expect(() => referenceForward(ir, [3, 0, 0])).toThrow("feature 0: 3 is not a category index of embedding 'emb' (a whole number from 0 to 2)")
  })

  test('ml2sc inspect names the categorical columns', async () => {
    const shown = renderInspect(await inspectTarget(path.join(LAYERS, 'embed_wine', 'model.onnx')))
    expect(shown).toContain("categorical  column 0 (nn.Embedding 'emb_a', 6 categories), column 1 (nn.Embedding 'emb_b', 4 categories)")
  })

  test('what cannot be folded is refused in one line', () => {
    const twice = SRC.replace('x[:, 1:]', 'x[:, 0:2]')
    expect(errorOf(() => buildModel(parseModuleSource(HEAD + twice, undefined, 'm.py'), tensors(), 'pt', 'm.py')).shortMessage).toBe("input column 0 is read twice (x[:, 0:2] and embedding 'emb')")
    const act = SRC.replace('return self.fc(h)', 'return self.fc(F.relu(h))')
    expect(errorOf(() => buildModel(parseModuleSource(HEAD + act, undefined, 'm.py'), tensors(), 'pt', 'm.py')).shortMessage).toBe("the embeddings' concatenation must go straight into a Linear (found relu)")
    const computed = SRC.replace('self.emb(x[:, 0].long())', 'self.emb(x.sum(1).long())')
    expect(errorOf(() => parseModuleSource(HEAD + computed, undefined, 'm.py')).shortMessage).toBe("unsupported construct 'x.sum(1)' at m.py:12")
    const notColumn = SRC.replace('self.emb(x[:, 0].long())', 'self.emb(x)')
    expect(errorOf(() => parseModuleSource(HEAD + notColumn, undefined, 'm.py')).hint).toContain('self.emb(x[:, 0].long())')
  })
})

describe('pools: PyTorch windows', () => {
  test('ceil_mode and adaptive spans', () => {
    // MaxPool(3, stride 2, ceil_mode) over 8: 4 windows, the last clipped to [6, 8)
    expect(ceilSpans(8, 3, 2, 0, 0, true)!.map((x) => [x.start, x.end])).toEqual([[0, 3], [2, 5], [4, 7], [6, 8]])
    // AvgPool(3, stride 2, padding 1, ceil_mode) over 4: divisors 3·… counted up to n + pad (count_include_pad), in range otherwise
    expect(ceilSpans(4, 3, 2, 1, 1, true)).toEqual([{ start: 0, end: 2, div: 3 }, { start: 1, end: 4, div: 3 }, { start: 3, end: 4, div: 2 }])
    expect(ceilSpans(4, 3, 2, 1, 1, false)!.map((x) => x.div)).toEqual([2, 3, 1])
    // ceil_mode that changes nothing
    expect(ceilSpans(7, 3, 2, 0, 0, true)).toBeUndefined()
    // adaptive: start = floor(i·n/out), end = ceil((i+1)·n/out)
    expect(adaptiveSpans(8, 3).map((x) => [x.start, x.end])).toEqual([[0, 3], [2, 6], [5, 8]])
    expect(adaptiveSpans(11, 4).map((x) => x.div)).toEqual([3, 4, 4, 3])
  })
})

describe('the layer fixtures in every format equal PyTorch in float', () => {
  for (const [name, file, shape, expectPools] of [
    ['embed_wine', 'model.state_dict.pt', undefined, ''],
    ['embed_wine', 'model.onnx', undefined, ''],
    ['block_wine', 'model.state_dict.pt', undefined, ''],
    ['block_wine', 'model.onnx', undefined, ''],
    ['pools_digits', 'model.state_dict.pt', [1, 8, 8], 'maxpool 4x4x4 spans, avgpool 6x3x3 spans, maxpool 6x1x1'],
    ['pools_digits', 'model.onnx', undefined, 'maxpool 4x4x4 spans, avgpool 6x3x3 spans, maxpool 6x1x1'],
    ['adaptive_digits', 'model.state_dict.pt', [1, 8, 8], 'maxpool 4x3x3 spans, avgpool 6x3x3 spans'],
    ['pools_signal', 'model.state_dict.pt', [1, 64], 'avgpool 4x11 spans, maxpool 4x4 spans'],
    // an nn.Sequential saved whole, traced and scripted: their own module trees
    ['pools_seq', 'model.whole.pt', [1, 8, 8], 'maxpool 4x4x4 spans, avgpool 6x3x3 spans, maxpool 6x2x2 spans'],
    ['pools_seq', 'model.trace.pt', [1, 8, 8], 'maxpool 4x4x4 spans, avgpool 6x3x3 spans, maxpool 6x2x2 spans'],
    ['pools_seq', 'model.script.pt', [1, 8, 8], 'maxpool 4x4x4 spans, avgpool 6x3x3 spans, maxpool 6x2x2 spans'],
  ] as const)
    test(`${name} (${file})`, async () => {
      const d = path.join(LAYERS, name)
      const source = file === 'model.state_dict.pt' ? { source: path.join(d, 'model.py') } : {}
      const model = await loadModel({ path: path.join(d, file), ...source, ...(shape ? { inputShape: [...shape] } : {}) } as Parameters<typeof loadModel>[0])
      const pools = (model.tensorLayers ?? []).filter((l) => l.kind !== 'conv').map((l) => `${l.kind} ${l.outShape.join('x')}${'spans' in l && l.spans ? ' spans' : ''}`)
      expect(pools.join(', ')).toBe(expectPools)
      const rows = readCsv(path.join(d, 'test.csv')).rows
      const ref = readCsv(path.join(d, 'reference.csv')).rows
      let worst = 0
      rows.forEach((r, i) => referenceForward(model, r.slice(0, -1)).forEach((v, j) => (worst = Math.max(worst, Math.abs(v - ref[i]![j + 1]!)))))
      expect(worst).toBeLessThan(1e-5)
    })
})

import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { ModelError } from '../../src/errors/base.ts'
import { parseModuleSource } from '../../src/model/parseModuleSource.ts'

const ML2SC = path.resolve(import.meta.dir, '../fixtures/ml2sc')
const relu = { op: 'activation', activation: { kind: 'relu' } }
const sigmoid = { op: 'activation', activation: { kind: 'sigmoid' } }

function errorOf(fn: () => unknown): ModelError {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(ModelError)
    return e as ModelError
  }
  throw new Error('expected a ModelError')
}

describe('parseModuleSource', () => {
  test('nested calls (ML2SC MLP_2L2)', () => {
    const src = readFileSync(path.join(ML2SC, 'models.py'), 'utf8')
    expect(parseModuleSource(src, 'MLP_2L2', 'models.py')).toEqual([{ op: 'linear', name: 'fc1' }, relu, { op: 'linear', name: 'fc2' }, sigmoid] as never)
    expect(parseModuleSource(src, 'MLP_1L1', 'models.py')).toEqual([{ op: 'linear', name: 'fc1' }, sigmoid] as never)
  })

  test('sequential assignments (ML2SC MLP_3L4)', () => {
    const src = readFileSync(path.join(ML2SC, 'models.py'), 'utf8')
    expect(parseModuleSource(src, 'MLP_3L4', 'models.py')).toEqual([
      { op: 'linear', name: 'fc1' },
      relu,
      { op: 'linear', name: 'fc2' },
      relu,
      { op: 'linear', name: 'fc3' },
      sigmoid,
    ] as never)
  })

  test('other variable names, type hints, comments, multi-line expressions, module activations', () => {
    const src = `
import torch
import torch.nn as nn
from torch.nn import functional as F

class Net(nn.Module):
    """A docstring with 'quotes' and # not a comment."""

    def __init__(self, n_in: int = 30, hidden: int = 8) -> None:
        super().__init__()  # comment
        self.n_in = n_in
        self.fc1: nn.Linear = nn.Linear(n_in, hidden)
        self.act = nn.LeakyReLU(negative_slope=0.2)
        self.drop = nn.Dropout(p=0.1)
        self.fc2 = nn.Linear(
            hidden,  # in
            3,       # out
        )
        self.out_act = nn.Softmax(dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # flatten first
        x = x.view(x.size(0), -1)
        h = self.drop(self.act(self.fc1(x)))
        out = self.fc2(
            h
        )
        return self.out_act(out)
`
    expect(parseModuleSource(src, undefined, 'net.py')).toEqual([
      { op: 'flatten', name: 'view' },
      { op: 'linear', name: 'fc1' },
      { op: 'activation', activation: { kind: 'leaky_relu', slope: 0.2 }, name: 'act' },
      { op: 'skip', name: 'drop' },
      { op: 'linear', name: 'fc2' },
      { op: 'activation', activation: { kind: 'softmax' }, name: 'out_act' },
    ] as never)
  })

  test('functional forms and leaky slopes', () => {
    const src = `
import torch, torch.nn as nn
import torch.nn.functional as F
class M(nn.Module):
    def __init__(self):
        super(M, self).__init__()
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 4)
        self.c = nn.Linear(4, 4)
        self.d = nn.Linear(4, 4)
        self.e = nn.Linear(4, 2)
    def forward(self, inp):
        y = F.leaky_relu(self.a(torch.flatten(inp, 1)), 0.3)
        y = F.leaky_relu(self.b(y), negative_slope=0.05)
        y = torch.tanh(F.dropout(self.c(y), p=0.5, training=self.training))
        y = F.leaky_relu(self.d(y))
        return F.softmax(self.e(y), dim=1)
`
    const steps = parseModuleSource(src, 'M', 'm.py')
    expect(steps.filter((s) => s.op === 'activation').map((s) => (s as { activation: unknown }).activation)).toEqual([
      { kind: 'leaky_relu', slope: 0.3 },
      { kind: 'leaky_relu', slope: 0.05 },
      { kind: 'tanh' },
      { kind: 'leaky_relu', slope: 0.01 },
      { kind: 'softmax' },
    ])
    expect(steps.filter((s) => s.op === 'linear').map((s) => (s as { name: string }).name)).toEqual(['a', 'b', 'c', 'd', 'e'])
  })

  test('nn.Sequential items are named net.0, net.1, ...', () => {
    const src = `
import torch.nn as nn
from collections import OrderedDict
class Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(10, 8),
            nn.BatchNorm1d(8, eps=1e-3),
            nn.ReLU(inplace=True),
            nn.Dropout(0.2),
            nn.Linear(8, 1),
            nn.Sigmoid(),
        )
        self.head = nn.Sequential(OrderedDict([('fc', nn.Linear(1, 1)), ('act', nn.Tanh())]))
    def forward(self, x):
        return self.head(self.net(x))
`
    expect(parseModuleSource(src, 'Seq', 'seq.py')).toEqual([
      { op: 'linear', name: 'net.0' },
      { op: 'batchnorm', name: 'net.1', eps: 1e-3 },
      { op: 'activation', activation: { kind: 'relu' }, name: 'net.2' },
      { op: 'skip', name: 'net.3' },
      { op: 'linear', name: 'net.4' },
      { op: 'activation', activation: { kind: 'sigmoid' }, name: 'net.5' },
      { op: 'linear', name: 'head.fc' },
      { op: 'activation', activation: { kind: 'tanh' }, name: 'head.act' },
    ] as never)
  })

  test('class selection: missing class lists the classes; several classes need model.class', () => {
    const src = readFileSync(path.join(ML2SC, 'models.py'), 'utf8')
    const e1 = errorOf(() => parseModuleSource(src, 'MLP_9L9', 'models.py'))
    expect(e1.shortMessage).toContain("no class 'MLP_9L9'")
    expect(e1.hint).toContain('MLP_1L1')
    const e2 = errorOf(() => parseModuleSource(src, undefined, 'models.py'))
    expect(e2.shortMessage).toContain('9 nn.Module classes')
    expect(e2.hint).toContain('MLP_3L4')
  })

  const unsupportedCases: [string, string, string, number][] = [
    [
      'transposed conv in __init__',
      `class C(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.conv = nn.ConvTranspose1d(1, 4, 3)\n    def forward(self, x):\n        return self.conv(x)\n`,
      'nn.ConvTranspose1d(1, 4, 3)',
      4,
    ],
    [
      'a bilinear layer (nn.LSTM, nn.MultiheadAttention and nn.Embedding are read since issues 19 and 20: test/model/recurrent-readers.test.ts, attention-readers.test.ts, layers-readers.test.ts)',
      `class C(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.bil = nn.Bilinear(4, 4, 8)\n    def forward(self, x):\n        return self.bil(x, x)\n`,
      'nn.Bilinear(4, 4, 8)',
      4,
    ],
    [
      'element-wise product (residual adds are read: test/model/graph-source.test.ts)',
      `class C(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc1 = nn.Linear(4, 4)\n        self.fc2 = nn.Linear(4, 4)\n\n    def forward(self, x):\n        y = F.relu(self.fc1(x))\n        # gate\n        y = y * x\n        return self.fc2(y)\n`,
      'y * x',
      10,
    ],
    [
      'torch.cat along the batch (along the features is read)',
      `class C(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc1 = nn.Linear(4, 4)\n    def forward(self, x):\n        return self.fc1(torch.cat([x, x], 0))\n`,
      'torch.cat([x, x], 0)',
      6,
    ],
    [
      // a `for` over a ModuleList or range(n) is unrolled (test/model/module-runs.test.ts); a `with` block is not read
      'with block',
      `class C(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc1 = nn.Linear(4, 4)\n    def forward(self, x):\n        with torch.no_grad():\n            x = self.fc1(x)\n        return x\n`,
      'with torch.no_grad():',
      6,
    ],
    [
      // nn.ModuleList / ModuleDict are read (test/model/module-runs.test.ts); a ParameterList is not
      'ParameterList',
      `class C(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.ws = nn.ParameterList([nn.Parameter(torch.ones(4))])\n    def forward(self, x):\n        return x * self.ws[0]\n`,
      'nn.ParameterList([nn.Parameter(torch.ones(4))])',
      4,
    ],
  ]
  for (const [what, src, construct, line] of unsupportedCases) {
    test(`unsupported construct names the text and line: ${what}`, () => {
      const e = errorOf(() => parseModuleSource(src, 'C', 'bad.py'))
      expect(e.shortMessage).toBe(`unsupported construct '${construct}' at bad.py:${line}`)
      expect(e.where).toBe('bad.py')
      expect(e.hint).toContain('nn.Linear')
    })
  }

  test('unused helper variables are fine; undefined submodules are not', () => {
    const ok = `class C(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 1)\n    def forward(self, x):\n        n = x.shape[0]\n        x = x.reshape(n, -1)\n        return torch.sigmoid(self.fc(x)).squeeze(1)\n`
    expect(parseModuleSource(ok, 'C', 'c.py').filter((s) => s.op !== 'skip' && s.op !== 'flatten')).toEqual([{ op: 'linear', name: 'fc' }, sigmoid] as never)
    const bad = `class C(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 1)\n    def forward(self, x):\n        return self.fc2(x)\n`
    expect(errorOf(() => parseModuleSource(bad, 'C', 'c.py')).shortMessage).toBe("unsupported construct 'self.fc2(x)' at c.py:6")
  })
})

test('log_softmax (common at the end of MNIST nets) is read: log-probabilities on the last layer', () => {
  const src = `import torch.nn.functional as F\nclass C(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 3)\n    def forward(self, x):\n        x = self.fc(x)\n        return F.log_softmax(x, dim=1)\n`
  expect(parseModuleSource(src, 'C', 'c.py')).toEqual([
    { op: 'linear', name: 'fc' },
    { op: 'activation', activation: { kind: 'log_softmax' }, name: 'log_softmax' },
  ])
})

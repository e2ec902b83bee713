// The readers of issue 19's activations, beside the on-chain fixtures (test/e2e/activations-onchain.test.ts):
// ONNX refusals that name the PyTorch layer, the arguments each spelling takes, and what is refused.
import { describe, expect, test } from 'bun:test'
import path from 'node:path'
import type { ArchStep, TensorMap } from '../../src/ir/types.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { parseLayersSpec } from '../../src/model/parseLayersSpec.ts'
import { parseModuleSource } from '../../src/model/parseModuleSource.ts'
import { FIXTURES } from '../helpers/paths.ts'

const refused = (name: string) => loadModel({ path: path.join(FIXTURES, 'acts-refused', `${name}.onnx`) })
const acts = (steps: ArchStep[]): unknown[] => steps.flatMap((s): unknown[] => (s.op === 'activation' ? [s.activation] : s.op === 'prelu' ? [{ prelu: s.name }] : []))

describe('ONNX refusals name the PyTorch layer', () => {
  test('a GELU after a bias-free Linear: the Div of the Erf pattern is named GELU', async () => {
    await expect(refused('gelu_after_matmul')).rejects.toThrow(/unsupported ONNX Div node '\/Div' \(PyTorch GELU \(Erf pattern\)\): MatMul 'fc1' must be followed by Add/)
  })
  test('torch.clamp with one bound: Clip, named ReLU6/Hardtanh', async () => {
    await expect(refused('clamp_open')).rejects.toThrow(/unsupported ONNX Clip node '\/Clip': PyTorch ReLU6\/Hardtanh \(Clip\) with an open bound \[-1, ∞\]/)
  })
  test('a PReLU with a slope per channel is folded exactly between its Linears, not refused', async () => {
    const m = await refused('prelu_per_channel')
    expect(m.layers.map((l) => [l.weight.length, l.weight[0]!.length, l.activation.kind])).toEqual([
      [6, 4, 'relu'],
      [2, 6, 'identity'],
    ])
  })
})

describe('model.source: modules and functional calls', () => {
  const src = (init: string, fwd: string) => `import torch
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 4)
${init}
    def forward(self, x):
${fwd}
        return x
`
  test('each spelling and its arguments', () => {
    const steps = parseModuleSource(
      src(
        '        self.a = nn.Hardtanh(min_val=-0.5, max_val=2)\n        self.b = nn.ELU(0.3)\n        self.c = nn.GELU(approximate="tanh")\n        self.d = nn.Softplus(threshold=5)\n        self.p = nn.PReLU()\n',
        '        x = self.d(self.c(self.b(self.a(self.fc1(x)))))\n        x = F.relu6(x)\n        x = torch.nn.functional.silu(x)\n        x = F.elu(x, alpha=0.2)\n        x = x.log_softmax(dim=1)\n        x = self.p(F.mish(F.hardswish(F.hardsigmoid(x))))',
      ),
      'Net',
      'model.py',
    )
    expect(acts(steps)).toEqual([
      { kind: 'hardtanh', min: -0.5, max: 2 },
      { kind: 'elu', alpha: 0.3 },
      { kind: 'gelu', approximate: 'tanh' },
      { kind: 'softplus', threshold: 5 },
      { kind: 'hardtanh', min: 0, max: 6 },
      { kind: 'silu' },
      { kind: 'elu', alpha: 0.2 },
      { kind: 'log_softmax' },
      { kind: 'hardsigmoid' },
      { kind: 'hardswish' },
      { kind: 'mish' },
      { prelu: 'p' },
    ])
  })
  test('refused: Softplus with beta ≠ 1, ELU with alpha < 0, log_softmax over the batch, GELU of an unknown form', () => {
    expect(() => parseModuleSource(src('        self.s = nn.Softplus(beta=2)\n', '        x = self.s(self.fc1(x))'), 'Net', 'model.py')).toThrow(/Softplus 's' at model.py:\d+: Softplus\(beta=2\) is not supported/)
    expect(() => parseModuleSource(src('', '        x = F.elu(self.fc1(x), -1.0)'), 'Net', 'model.py')).toThrow(/ELU\(alpha=-1\) is not supported/)
    expect(() => parseModuleSource(src('', '        x = F.log_softmax(self.fc1(x), dim=0)'), 'Net', 'model.py')).toThrow(/LogSoftmax over dim 0/)
    expect(() => parseModuleSource(src('', "        x = F.gelu(self.fc1(x), approximate='erf')"), 'Net', 'model.py')).toThrow(/GELU\(approximate=erf\)/)
  })
})

describe('model.layers', () => {
  const w = (shape: number[]) => ({ shape, data: new Float64Array(shape.reduce((a, b) => a * b, 1)).fill(0.25) })
  const sd: TensorMap = new Map([
    ['fc1.weight', w([3, 2])],
    ['fc1.bias', w([3])],
    ['act.weight', w([1])],
    ['fc2.weight', w([2, 3])],
    ['fc2.bias', w([2])],
  ])
  test('names, PyTorch spellings and arguments', () => {
    const steps = parseLayersSpec(['linear', 'ReLU6', 'Hardtanh(-1, 2)', 'gelu_tanh', 'GELU(approximate=tanh)', 'swish', 'elu(alpha=0.5)', 'softplus(threshold=10)', 'prelu', 'linear', 'LogSoftmax(dim=1)'], sd, 'w.pt')
    expect(acts(steps)).toEqual([
      { kind: 'hardtanh', min: 0, max: 6 },
      { kind: 'hardtanh', min: -1, max: 2 },
      { kind: 'gelu', approximate: 'tanh' },
      { kind: 'gelu', approximate: 'tanh' },
      { kind: 'silu' },
      { kind: 'elu', alpha: 0.5 },
      { kind: 'softplus', threshold: 10 },
      { prelu: 'act' },
      { kind: 'log_softmax' },
    ])
  })
  test('a prelu without slopes in the state_dict is refused', () => {
    expect(() => parseLayersSpec(['linear', 'prelu', 'prelu', 'linear'], sd, 'w.pt')).toThrow(/prelu #2 has no slopes/)
  })
})

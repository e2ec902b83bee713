// A module applied several times in a loop (`for _ in range(3): x = F.relu(self.fc(x))`): unrolled into one
// layer per application, each with the module's own weights, so the float forward is the loop's; PyTorch's
// parameter count (inspect, init, report.json) counts the module once. The weights are written by the test:
// what is checked is the unrolling and the count, not agreement with a trained model.
import { expect, test } from 'bun:test'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import { parameterCount } from '../../src/ir/taskOf.ts'
import { loadModel } from '../../src/model/loadModel.ts'

const SOURCE = `import torch
from torch import nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(4, 5)
        self.fc = nn.Linear(5, 5)
        self.out = nn.Linear(5, 2)

    def forward(self, x):
        x = F.relu(self.inp(x))
        for _ in range(3):
            x = F.relu(self.fc(x))
        return self.out(x)
`

let seed = 7
const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5
const matrix = (r: number, c: number) => Array.from({ length: r }, () => Array.from({ length: c }, rnd))
const vector = (n: number) => Array.from({ length: n }, () => rnd() / 5)
const linear = (w: number[][], b: number[], x: number[]) => w.map((row, i) => row.reduce((s, v, j) => s + v * x[j]!, b[i]!))
const relu = (v: number[]) => v.map((x) => Math.max(0, x))

test('a module applied three times in a loop: three layers with its weights, the loop\'s forward, its parameters counted once', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-shared-'))
  const sd = { 'inp.weight': matrix(5, 4), 'inp.bias': vector(5), 'fc.weight': matrix(5, 5), 'fc.bias': vector(5), 'out.weight': matrix(2, 5), 'out.bias': vector(2) }
  writeFileSync(path.join(dir, 'model.py'), SOURCE)
  writeFileSync(path.join(dir, 'weights.json'), JSON.stringify(sd))
  const model = await loadModel({ path: path.join(dir, 'weights.json'), source: path.join(dir, 'model.py'), class: 'Net' } as never)
  expect(model.layers.map((l) => l.name)).toEqual(['inp', 'fc', 'fc', 'fc', 'out'])
  for (const k of [1, 2, 3]) expect(model.layers[k]!.weight).toEqual(sd['fc.weight'])
  // 4·5+5 + 5·5+5 + 5·2+2, not the 127 of five separate layers
  expect(parameterCount(model)).toBe(67)
  for (const x of [[0.3, -1.2, 0.5, 2], [-0.7, 0.1, 1.5, -0.4]]) {
    let h = relu(linear(sd['inp.weight'], sd['inp.bias'], x))
    for (let i = 0; i < 3; i++) h = relu(linear(sd['fc.weight'], sd['fc.bias'], h))
    const want = linear(sd['out.weight'], sd['out.bias'], h)
    referenceForward(model, x).forEach((y, i) => expect(y).toBeCloseTo(want[i]!, 12))
  }
})

// A module applied several times in a loop (`for _ in range(3): x = F.relu(self.fc(x))`): unrolled into one
// layer per application, each with the module's own weights (the later ones marked as sharing the first's), so
// the float forward is the loop's; PyTorch's parameter count (inspect, init, report.json) counts the module
// once. The weights are the test's own (test/helpers/sharedLoopModel.ts): what is checked is the unrolling and
// the count, not agreement with a trained model.
import { expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import { parameterCount } from '../../src/ir/taskOf.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { writeSharedLoopModel } from '../helpers/sharedLoopModel.ts'

const linear = (w: number[][], b: number[], x: number[]) => w.map((row, i) => row.reduce((s, v, j) => s + v * x[j]!, b[i]!))
const relu = (v: number[]) => v.map((x) => Math.max(0, x))

test('a module applied three times in a loop: three layers with its weights, the loop\'s forward, its parameters counted once', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-shared-'))
  const sd = writeSharedLoopModel(dir)
  const [W, B] = [(k: string) => sd[`${k}.weight`] as number[][], (k: string) => sd[`${k}.bias`] as number[]]
  const model = await loadModel({ path: path.join(dir, 'weights.json'), source: path.join(dir, 'model.py'), class: 'Net' } as never)
  expect(model.layers.map((l) => l.name)).toEqual(['inp', 'fc', 'fc', 'fc', 'out'])
  // the second and third application use the first's weights (stored once on chain: test/chain/shared-module-chain.test.ts)
  expect(model.layers.map((l) => l.shares)).toEqual([undefined, undefined, 1, 1, undefined])
  for (const k of [1, 2, 3]) expect(model.layers[k]!.weight).toEqual(W('fc'))
  // 4·5+5 + 5·5+5 + 5·2+2, not the 127 of five separate layers
  expect(parameterCount(model)).toBe(67)
  for (const x of [[0.3, -1.2, 0.5, 2], [-0.7, 0.1, 1.5, -0.4]]) {
    let h = relu(linear(W('inp'), B('inp'), x))
    for (let i = 0; i < 3; i++) h = relu(linear(W('fc'), B('fc'), h))
    const want = linear(W('out'), B('out'), h)
    referenceForward(model, x).forEach((y, i) => expect(y).toBeCloseTo(want[i]!, 12))
  }
})

// The less common conv/pool pieces as PyTorch writes them (scripts/cnn_fixtures.py make_ops): grouped and
// depthwise dilated strided convs, average pooling with padding counted (ONNX: Pad + AveragePool) and not
// counted (count_include_pad=0), a padded max pool, Dropout2d, sigmoid after a conv, ReLU after the
// flatten. Every format gives PyTorch's outputs; the simulator stays within the quantisation.
import { expect, test } from 'bun:test'
import path from 'node:path'
import { encodeRow } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { readCsv } from './helpers.ts'

const dir = path.join(FIXTURES, 'cnn_ops')
const rows = readCsv(path.join(dir, 'test.csv')).rows
const ref = readCsv(path.join(dir, 'reference.csv')).rows.map((r) => r.slice(1))

test.each(['model.onnx', 'model.whole.pt', 'model.trace.pt'])('%s: the layers and PyTorch\'s outputs', async (file) => {
  const ir = await loadModel({ path: path.join(dir, file), ...(file.endsWith('.onnx') ? {} : { inputShape: [2, 9, 9] }) })
  expect(ir.tensorLayers!.map((l) => [l.kind, l.outShape, l.activation.kind, l.kind === 'conv' ? l.groups : 'countIncludePad' in l && l.countIncludePad])).toEqual([
    ['conv', [4, 9, 9], 'relu', 2],
    ['avgpool', [4, 9, 9], 'identity', true],
    ['conv', [8, 5, 5], 'sigmoid', 4],
    ['maxpool', [8, 3, 3], 'identity', true],
    ['avgpool', [8, 4, 4], 'relu', false], // the ReLU after the flatten is element-wise: it joins the last tensor layer
  ])
  const worst = Math.max(...rows.flatMap((x, r) => referenceForward(ir, x).map((v, i) => Math.abs(v - ref[r]![i]!))))
  expect(worst).toBeLessThan(1e-5)
  const plan = makePlan(ir, { fraction: 20, weightBytes: 2, inputBytes: 4 })
  const simErr = Math.max(
    ...rows.flatMap((x, r) => {
      const e = encodeRow(plan, x)
      if (!e.ok) throw new Error(e.error)
      return simulate(plan, e.values).map((v, i) => Math.abs(Number(v) / 2 ** 20 - ref[r]![i]!))
    }),
  )
  expect(simErr).toBeLessThan(1e-3)
})

// Issue 19, a CNN whose two conv branches are concatenated along the channels, as a newcomer runs it
// (scripts/make-conv-graph-fixtures.py, digits 8×8) from its ONNX export (Concat axis=1). `ml2sc init` then
// `ml2sc run` with init's config unedited, on the run's own anvil: the chain equals the simulator on every
// row, every output is within the tolerance of PyTorch's own (data.reference), and every class is PyTorch's.
import { expect, test } from 'bun:test'
import path from 'node:path'
import { FIXTURES } from '../helpers/paths.ts'
import { convGraphRun } from '../helpers/convGraphRun.ts'

test('concat CNN from ONNX: init, run unedited; chain = simulator, PyTorch\'s classes', async () => {
  const { report, rows, torch } = await convGraphRun(path.join(FIXTURES, 'convgraph', 'concat_digits'), ['model.onnx'], 'model.onnx')
  expect(report.model.format).toBe('onnx')
  expect(report.model.tensorLayers.map((l: { kind: string }) => l.kind)).toEqual(['conv', 'conv', 'conv', 'concat', 'maxpool'])
  expect(rows).toHaveLength(torch.length)
})

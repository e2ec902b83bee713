// The graph CNNs of issue 19 as a newcomer runs them, one file (one bun process) for the two runs that were two
// files (helpers/convGraphRun.ts): the residual CNN from model.py + state_dict, and the concat CNN from ONNX.
//
// Issue 19, a residual CNN as a newcomer runs it (scripts/make-conv-graph-fixtures.py, digits 8×8): model.py
// (a basic block as a custom module, an inline add with a 1×1-conv skip) beside its state_dict. `ml2sc init`
// then `ml2sc run` with init's config unedited, on the run's own anvil: the chain equals the simulator on
// every row, every output is within the tolerance of PyTorch's own (data.reference), and every class is PyTorch's.
//
// Issue 19, a CNN whose two conv branches are concatenated along the channels, as a newcomer runs it
// (scripts/make-conv-graph-fixtures.py, digits 8×8) from its ONNX export (Concat axis=1). `ml2sc init` then
// `ml2sc run` with init's config unedited, on the run's own anvil: the chain equals the simulator on every
// row, every output is within the tolerance of PyTorch's own (data.reference), and every class is PyTorch's.
import { expect, test } from 'bun:test'
import path from 'node:path'
import { FIXTURES } from '../helpers/paths.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { convGraphRun } from '../helpers/convGraphRun.ts'

test('residual CNN from model.py + state_dict: init, run unedited; chain = simulator, PyTorch\'s classes', async () => {
  const { report, rows, torch, dir } = await convGraphRun(path.join(FIXTURES, 'convgraph', 'residual_digits'), ['model.state_dict.pt', 'model.py'], 'model.state_dict.pt')
  expect(report.model.format).toBe('state_dict-pt')
  expect(report.model.tensorLayers.map((l: { kind: string }) => l.kind)).toEqual(['conv', 'conv', 'conv', 'add', 'conv', 'conv', 'add', 'maxpool'])
  expect(rows).toHaveLength(torch.length)
  // inspect names what each join reads, and the downsample conv that reads the block's output
  const inspect = await runCliInProcess(['inspect', 'ml2sc.yaml'], { cwd: dir })
  expect(inspect.code).toBe(0)
  expect(inspect.stdout).toContain('add1         add (block.conv2 + stem)')
  expect(inspect.stdout).toContain('down         conv2d (of add1)')
  expect(inspect.stdout).toContain('add2         add (conv3 + down)')
})

test('concat CNN from ONNX: init, run unedited; chain = simulator, PyTorch\'s classes', async () => {
  const { report, rows, torch } = await convGraphRun(path.join(FIXTURES, 'convgraph', 'concat_digits'), ['model.onnx'], 'model.onnx')
  expect(report.model.format).toBe('onnx')
  expect(report.model.tensorLayers.map((l: { kind: string }) => l.kind)).toEqual(['conv', 'conv', 'conv', 'concat', 'maxpool'])
  expect(rows).toHaveLength(torch.length)
})

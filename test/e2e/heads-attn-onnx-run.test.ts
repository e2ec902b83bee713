// Issue 19, heads after nn.MultiheadAttention read from ONNX: the MultiheadAttention(4, 2) next/up model
// (real PyTorch, scripts/heads_more.py; model.onnx exported from its state_dict by scripts/heads_seq.py with
// output_names next, up). `ml2sc init model.onnx` names the label columns from the ONNX outputs; `ml2sc run`
// unedited on its own anvil: the chain equals the simulator on every row, each head is within the tolerance of
// PyTorch and named (from the ONNX output names) in report.json, predictions.csv, the contract and predict
// --json (helpers/headsRun.ts).
import { expect, test } from 'bun:test'
import { initAndRunHeads } from '../helpers/headsRun.ts'

test('MultiheadAttention with heads next and up from ONNX: init, then run unedited', async () => {
  const { report } = await initAndRunHeads('heads_attn_sine', ['model.onnx'], 'model.onnx')
  expect(report.model.format).toBe('onnx')
  expect(report.gas.predictSingle).toBeGreaterThan(50_000)
  expect(report.gas.predictSingle).toBeLessThan(1_000_000)
  expect(report.error.maxAbs).toBeLessThan(1e-3)
})

// Issue 19, heads after a TransformerEncoderLayer on chain: the encoder (4 features, 2 attention heads,
// feed-forward 8, relu, post-norm) over 6 tokens, mean-pooled into a next and an up head (real PyTorch,
// scripts/heads_seq.py), exported to ONNX with output_names next, up. `ml2sc init model.onnx` then
// `ml2sc run` unedited on its own anvil: the chain equals the simulator on every row, each head is within the
// tolerance of PyTorch and named in report.json, predictions.csv, the contract and predict --json
// (helpers/headsRun.ts). The other formats read to the same model: test/heads/heads-seq-formats.test.ts.
import { expect, test } from 'bun:test'
import { initAndRunHeads } from '../helpers/headsRun.ts'

test('TransformerEncoderLayer with heads next and up from ONNX: init, then run unedited', async () => {
  const { report } = await initAndRunHeads('heads_encoder_sine', ['model.onnx'], 'model.onnx')
  expect(report.model.format).toBe('onnx')
  expect(report.gas.predictSingle).toBeGreaterThan(50_000)
  expect(report.gas.predictSingle).toBeLessThan(2_000_000)
  expect(report.error.maxAbs).toBeLessThan(1e-3)
})

// Issue 19, heads after an LSTM as a newcomer runs them: the LSTM(1, 8) next/up model (real PyTorch,
// scripts/heads_seq.py) as model.py + state_dict. `ml2sc init` names a label column per head (model.py's
// `return self.next(last), self.up(last)`) and the window [8, 1]; `ml2sc run` deploys it unedited on its own
// anvil: the chain equals the simulator on every row, each head is within the tolerance of PyTorch and named in
// report.json, predictions.csv, the contract and predict --json (helpers/headsRun.ts). The other formats read to
// the same model: test/heads/heads-seq-formats.test.ts.
import { expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { initAndRunHeads } from '../helpers/headsRun.ts'

test('LSTM with heads next and up from model.py + state_dict: init, then run unedited', async () => {
  const { dir, report } = await initAndRunHeads('heads_lstm_sine', ['model.state_dict.pt', 'model.py'], 'model.state_dict.pt')
  expect(readFileSync(path.join(dir, 'ml2sc.yaml'), 'utf8')).toContain('inputShape: [8, 1]')
  expect(report.model.format).toBe('state_dict-pt')
  // 8 LSTM steps then the two heads: far more than a bare transaction, under the per-transaction cap
  expect(report.gas.predictSingle).toBeGreaterThan(50_000)
  expect(report.gas.predictSingle).toBeLessThan(1_000_000)
  expect(report.error.maxAbs).toBeLessThan(1e-4)
})

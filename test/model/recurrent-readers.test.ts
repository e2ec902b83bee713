// Sequence models from PyTorch's files (issue 20; fixtures made by scripts/make-sequence-fixtures.py):
// a state_dict with model.source reads to the GRU/LSTM IR, whose float reference equals PyTorch's outputs;
// unsupported constructs are refused with one line naming them.
import { describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { readAllRows } from '../../src/data/readCsv.ts'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { FIXTURES } from '../helpers/paths.ts'

const SEQ = path.join(FIXTURES, 'seq')
const torchOut = (dir: string) => readFileSync(path.join(dir, 'reference.csv'), 'utf8').trim().split('\n').map((l) => l.split(',').map(Number))
const FIXT = [
  { name: 'gru_sine', shape: [16, 1], label: 'next', kind: 'gru' },
  { name: 'lstm_cls', shape: [10, 2], label: 'label', kind: 'lstm' },
  { name: 'gru2_sine', shape: [16, 1], label: 'next', kind: 'gru' },
] as const

/** Largest |ml2sc's float reference − PyTorch| over the fixture's test rows. */
async function worstAgainstTorch(dir: string, model: Awaited<ReturnType<typeof loadModel>>, label: string): Promise<number> {
  const data = await readAllRows(path.join(dir, 'test.csv'), { label })
  const ref = torchOut(dir)
  let worst = 0
  data.features.forEach((f, i) => referenceForward(model, f).forEach((v, j) => (worst = Math.max(worst, Math.abs(v - ref[i]![j]!)))))
  return worst
}

describe('sequence model readers', () => {
  for (const f of FIXT)
    test(`${f.name}: state_dict + model.source → ${f.kind.toUpperCase()} IR, float reference = PyTorch within 1e-5`, async () => {
      const dir = path.join(SEQ, f.name)
      const model = await loadModel({ path: path.join(dir, 'state_dict.pt'), source: path.join(dir, 'model.py'), inputShape: [...f.shape] })
      expect(model.recurrent?.kind).toBe(f.kind)
      expect(model.inputSize).toBe(f.shape[0] * f.shape[1])
      expect(await worstAgainstTorch(dir, model, f.label)).toBeLessThan(1e-5)
    })

  const refusals: [string, string, RegExp][] = [
    ['self.gru = nn.GRU(1, 16, num_layers=3, batch_first=True)', 'return self.fc(out[:, -1, :])', /num_layers=3 .* not supported on chain yet/],
    ['self.gru = nn.GRU(1, 16, batch_first=True, bidirectional=True)', 'return self.fc(out[:, -1, :])', /bidirectional GRU .* not supported/],
    ['self.gru = nn.GRU(1, 16, batch_first=True)', 'return self.fc(out)', /whole sequence: not supported on chain/],
    ['self.gru = nn.GRU(1, 16, batch_first=True)', 'return self.fc(out[:, 0, :])', /not the last time step/],
    ['self.gru = nn.GRU(1, 16, batch_first=True)', 'return self.fc(out[-1])', /not the last time step of the sequence \(batch_first=True\)/],
  ]
  for (const [init, ret, err] of refusals)
    test(`refused: ${init.replace('self.gru = ', '')} / ${ret}`, async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-seq-'))
      const src = `import torch.nn as nn\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        ${init}\n        self.fc = nn.Linear(16, 1)\n\n    def forward(self, x):\n        out, h = self.gru(x)\n        ${ret}\n`
      writeFileSync(path.join(dir, 'model.py'), src)
      const p = loadModel({ path: path.join(SEQ, 'gru_sine', 'state_dict.pt'), source: path.join(dir, 'model.py'), inputShape: [16, 1] })
      await expect(p).rejects.toThrow(err)
    })

  test('ONNX: the GRU/LSTM node reads to the same IR as the state_dict; a two-layer export (two GRU nodes) is refused with one line', async () => {
    for (const f of FIXT.slice(0, 2)) {
      const dir = path.join(SEQ, f.name)
      const m = await loadModel({ path: path.join(dir, 'model.onnx') })
      expect(m.inputShape).toEqual([...f.shape])
      expect(await worstAgainstTorch(dir, m, f.label)).toBeLessThan(1e-5)
    }
    await expect(loadModel({ path: path.join(SEQ, 'gru2_sine', 'model.onnx') })).rejects.toThrow(/ONNX GRU node '\/gru\/GRU': .*not supported on chain/)
  })

  test('refused: a GRU without model.inputShape names the key', async () => {
    const dir = path.join(SEQ, 'gru_sine')
    await expect(loadModel({ path: path.join(dir, 'state_dict.pt'), source: path.join(dir, 'model.py') })).rejects.toThrow(/model.inputShape: \[T, F\]/)
  })
})

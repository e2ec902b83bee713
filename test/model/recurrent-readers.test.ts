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
  // issue 20, part 2: bidirectional fc(cat(h[-2], h[-1])), 2-layer LSTM fc(out.reshape(B, -1)), per-step Linear flattened
  { name: 'gru_bi_cls', shape: [10, 2], label: 'label', kind: 'gru' },
  { name: 'lstm2_sine', shape: [16, 1], label: 'next', kind: 'lstm' },
  { name: 'gru_bi_steps', shape: [10, 2], label: 'label', kind: 'gru' },
] as const
/** The newer fixtures: every format ml2sc reads them from (model.py beside the weights-only and whole-model files). */
const NEW = FIXT.slice(3)

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

  for (const f of NEW)
    test(`${f.name}: model.py + state_dict .pt / .safetensors / whole .pt → the same IR, = PyTorch within 1e-5`, async () => {
      const dir = path.join(SEQ, f.name)
      const base = await loadModel({ path: path.join(dir, 'state_dict.pt'), source: path.join(dir, 'model.py'), inputShape: [...f.shape] })
      for (const file of ['model.safetensors', 'whole.pt']) {
        const m = await loadModel({ path: path.join(dir, file), source: path.join(dir, 'model.py'), inputShape: [...f.shape] })
        expect(m.recurrent).toEqual(base.recurrent!)
        expect(await worstAgainstTorch(dir, m, f.label)).toBeLessThan(1e-5)
      }
    })

  test('the readouts as PyTorch computes them: cat(h[-2], h[-1]) is both final states (the reverse one at t = 0); out.reshape(B, -1) every step', async () => {
    const bi = await loadModel({ path: path.join(SEQ, 'gru_bi_cls', 'state_dict.pt'), source: path.join(SEQ, 'gru_bi_cls', 'model.py'), inputShape: [10, 2] })
    expect(bi.recurrent!.readout).toEqual([{ layer: 0, dir: 0, t: 9 }, { layer: 0, dir: 1, t: 0 }])
    expect(bi.recurrent!.reverse?.name).toBe('gru.reverse')
    const l2 = await loadModel({ path: path.join(SEQ, 'lstm2_sine', 'state_dict.pt'), source: path.join(SEQ, 'lstm2_sine', 'model.py'), inputShape: [16, 1] })
    expect(l2.recurrent!.readout).toEqual(Array.from({ length: 16 }, (_, t) => ({ layer: 1, dir: 0, t })))
    expect(l2.recurrent!.next?.features).toBe(8)
    const st = await loadModel({ path: path.join(SEQ, 'gru_bi_steps', 'state_dict.pt'), source: path.join(SEQ, 'gru_bi_steps', 'model.py'), inputShape: [10, 2] })
    // proj (12 → 2) at each of 10 steps: one block-diagonal Linear 120 → 20
    expect(st.layers.map((l) => [l.name, l.weight[0]!.length, l.weight.length])).toEqual([['proj', 120, 20], ['head', 20, 3]])
    expect(st.layers[0]!.weight[2]![11]).toBe(0)
    expect(st.layers[0]!.weight[2]![12]).toBe(st.layers[0]!.weight[0]![0])
  })

  for (const f of FIXT)
    test(`${f.name}: TorchScript ${f.name.includes('_bi') || f.name === 'lstm2_sine' ? 'trace and script' : 'trace'} without model.source, read from the archive's code → the state_dict's IR, = PyTorch within 1e-5`, async () => {
      const dir = path.join(SEQ, f.name)
      const base = await loadModel({ path: path.join(dir, 'state_dict.pt'), source: path.join(dir, 'model.py'), inputShape: [...f.shape] })
      for (const file of NEW.some((n) => n.name === f.name) ? ['traced.pt', 'scripted.pt'] : ['traced.pt']) {
        const m = await loadModel({ path: path.join(dir, file), inputShape: [...f.shape] })
        expect(m.format).toBe('torchscript')
        expect(m.recurrent).toEqual(base.recurrent!)
        expect(m.layers).toEqual(base.layers)
        expect(await worstAgainstTorch(dir, m, f.label)).toBeLessThan(1e-5)
      }
    })

  test('a whole .pt of a custom module holds no forward(): without model.source it is refused with one line naming its submodules', async () => {
    await expect(loadModel({ path: path.join(SEQ, 'gru_bi_cls', 'whole.pt'), inputShape: [10, 2] })).rejects.toThrow(/'BiClassifier' is a custom nn.Module: the pickle holds its submodules \(gru: GRU, fc: Linear\) but not the order forward\(\) uses them/)
  })

  const refusals: [string, string, RegExp][] = [
    ['self.gru = nn.GRU(1, 16, num_layers=3, batch_first=True)', 'return self.fc(out[:, -1, :])', /num_layers=3 .* not supported on chain yet/],
    ['self.gru = nn.LSTM(1, 16, proj_size=4, batch_first=True)', 'return self.fc(out[:, -1, :])', /LSTM with proj_size .* not supported/],
    ['self.gru = nn.GRU(1, 16, batch_first=True)', 'return self.fc(out)', /per-step layers' output \[B, T, out\] going on unflattened .*not supported on chain/],
    ['self.gru = nn.GRU(1, 16, batch_first=True)', 'return self.fc(out[0])', /index 0 on axis 0 of the output sequence \(batch_first=True\) is not supported/],
    ['self.gru = nn.GRU(1, 16)', 'return self.fc(out.reshape(out.shape[0], -1))', /batch_first=False module mixes the batch into it/],
    ['self.gru = nn.GRU(1, 16, batch_first=True)', 'return self.fc(h)', /Linear 'fc' \(per step, batch first only\) of h_n is not supported/],
    ['self.gru = nn.GRU(1, 16, batch_first=True)', 'return self.fc(h[:, -1])', /index -1 on axis 1 of h_n is not supported/],
    ['self.gru = nn.GRU(1, 16, batch_first=True)', 'return self.fc(out[:, -1, :8])', /index \[:, -1, :8\] of .* is not supported/],
    ['self.gru = nn.GRU(1, 16, batch_first=True)', 'out, h = self.gru(x, self.h0)\n        return self.fc(h[-1])', /passes an initial state or lengths to GRU 'gru'/],
    ['self.gru = nn.GRU(1, 16, batch_first=True)', 'p = nn.utils.rnn.pack_padded_sequence(x, [16], batch_first=True)\n        return self.fc(p)', /packed or padded variable-length sequences are not supported on chain/],
  ]
  for (const [init, ret, err] of refusals)
    test(`refused: ${init.replace('self.gru = ', '')} / ${ret}`, async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-seq-'))
      const src = `import torch.nn as nn\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        ${init}\n        self.fc = nn.Linear(16, 1)\n\n    def forward(self, x):\n        out, h = self.gru(x)\n        ${ret}\n`
      writeFileSync(path.join(dir, 'model.py'), src)
      const p = loadModel({ path: path.join(SEQ, 'gru_sine', 'state_dict.pt'), source: path.join(dir, 'model.py'), inputShape: [16, 1] })
      await expect(p).rejects.toThrow(err)
    })

  for (const f of FIXT)
    test(`${f.name}: ONNX (torch's GRU/LSTM nodes, one per layer, Y / Y_h plumbing) reads to the state_dict's IR, = PyTorch within 1e-5`, async () => {
      const dir = path.join(SEQ, f.name)
      const m = await loadModel({ path: path.join(dir, 'model.onnx') })
      const base = await loadModel({ path: path.join(dir, 'state_dict.pt'), source: path.join(dir, 'model.py'), inputShape: [...f.shape] })
      expect(m.inputShape).toEqual([...f.shape])
      expect(m.recurrent!.readout).toEqual(base.recurrent!.readout)
      expect(!!m.recurrent!.reverse).toBe(!!base.recurrent!.reverse)
      expect(!!m.recurrent!.next).toBe(!!base.recurrent!.next)
      expect(m.layers.map((l) => l.weight[0]!.length)).toEqual(base.layers.map((l) => l.weight[0]!.length))
      expect(await worstAgainstTorch(dir, m, f.label)).toBeLessThan(1e-5)
    })

  test('refused: a GRU without model.inputShape names the key', async () => {
    const dir = path.join(SEQ, 'gru_sine')
    await expect(loadModel({ path: path.join(dir, 'state_dict.pt'), source: path.join(dir, 'model.py') })).rejects.toThrow(/model.inputShape: \[T, F\]/)
  })
})

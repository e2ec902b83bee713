// Issue 20's format matrix: every sequence fixture (scripts/make-sequence-fixtures.py, make-attention-fixtures.py)
// in every format it is committed in reads to a model whose float forward equals PyTorch's outputs within 1e-5:
// with model.source always, and from the file alone where the file says the architecture: ONNX, TorchScript script
// and trace (a GRU/LSTM's torch.gru(…) call; MultiheadAttention's num_heads from constants.pkl; a
// TransformerEncoderLayer's activation and norm order from its traced code). Where the file alone is not enough (a
// state_dict; a whole .pt, whose pickle has no forward()) the refusal is one line asking for model.source. The README's sequence-model section lists it.
import { describe, expect, test } from 'bun:test'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { readAllRows } from '../../src/data/readCsv.ts'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { FIXTURES } from '../helpers/paths.ts'

const SEQ = path.join(FIXTURES, 'seq')
const RECURRENT = ['gru_sine', 'gru2_sine', 'lstm_cls', 'lstm2_sine', 'gru_bi_cls', 'gru_bi_steps']
const ATTENTION = ['attn_sine', 'attn2_cls', 'encoder_cls', 'encoder_pre']
const FORMATS = ['model.onnx', 'scripted.pt', 'traced.pt', 'whole.pt', 'state_dict.pt', 'model.safetensors', 'weights.json']
/** Formats read with no model.source. */
const alone = (file: string) => file === 'model.onnx' || file === 'scripted.pt' || file === 'traced.pt'
const NEEDS_SOURCE = /holds only weights|the pickle holds its submodules .* but not the order forward\(\) uses them/

describe('sequence fixtures × formats', () => {
  for (const name of [...RECURRENT, ...ATTENTION])
    test(`${name}: every committed format = PyTorch within 1e-5 (with model.source; alone where the file says the architecture)`, async () => {
      const dir = path.join(SEQ, name)
      const cls = readFileSync(path.join(dir, 'model.py'), 'utf8').match(/^class (\w+)/m)![1]!
      const header = readFileSync(path.join(dir, 'test.csv'), 'utf8').split('\n')[0]!.split(',')
      const F = header.filter((c) => c.startsWith('x0_')).length
      const inputShape = [(header.length - 1) / F, F]
      const data = await readAllRows(path.join(dir, 'test.csv'), { label: header[header.length - 1]! })
      const ref = readFileSync(path.join(dir, 'reference.csv'), 'utf8').trim().split('\n').map((l) => l.split(',').map(Number))
      const files = FORMATS.filter((f) => existsSync(path.join(dir, f)))
      // every fixture has ONNX, TorchScript trace and script, whole .pt, state_dict .pt and safetensors
      expect(files.filter((f) => f !== 'weights.json')).toEqual(FORMATS.slice(0, 6))
      for (const file of files) {
        const ways = file === 'model.onnx' ? [false] : [false, true]
        for (const withSource of ways) {
          const spec = { path: path.join(dir, file), inputShape, ...(withSource ? { source: path.join(dir, 'model.py'), class: cls } : {}) }
          if (!withSource && !alone(file)) {
            await expect(loadModel(spec), file).rejects.toThrow(NEEDS_SOURCE)
            continue
          }
          const model = await loadModel(spec)
          let worst = 0
          data.features.forEach((x, i) => referenceForward(model, x).forEach((v, j) => (worst = Math.max(worst, Math.abs(v - ref[i]![j]!)))))
          expect(worst, `${file}${withSource ? ' + model.py' : ''}`).toBeLessThan(1e-5)
        }
      }
    })
})

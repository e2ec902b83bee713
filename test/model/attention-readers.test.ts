// Self-attention from PyTorch's files (issue 20; fixtures made by scripts/make-attention-fixtures.py): a
// state_dict (.pt, safetensors, JSON), a whole .pt (the encoder's too) or TorchScript (trace, script) with model.source reads to the same
// attention IR, whose float reference equals PyTorch's outputs; the fixed-point twin stays within a stated
// bound of it; what ml2sc does not run (masks, cross-attention, T > 32, the Transformer
// modules) is refused with one line naming it.
import { describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { readAllRows } from '../../src/data/readCsv.ts'
import { encodeRow } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { FIXTURES } from '../helpers/paths.ts'

const SEQ = path.join(FIXTURES, 'seq')
const torchOut = (dir: string) => readFileSync(path.join(dir, 'reference.csv'), 'utf8').trim().split('\n').map((l) => l.split(',').map(Number))
const FIXT = [
  { name: 'attn_sine', cls: 'AttnForecaster', label: 'next', heads: 1, pool: 'mean', fixedTol: 1e-4 },
  { name: 'attn2_cls', cls: 'AttnClassifier', label: 'label', heads: 2, pool: 'last', fixedTol: 2e-3 },
  // nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), post-norm relu, mean over the tokens (a sum, 1/T in the head);
  // its whole .pt pickles F.relu as the layer's `activation`: a name the unpickler records, never calls
  { name: 'encoder_cls', cls: 'EncoderClassifier', label: 'label', heads: 2, pool: 'sum', fixedTol: 1e-3 },
] as const
const FILES = ['state_dict.pt', 'model.safetensors', 'weights.json', 'whole.pt', 'traced.pt', 'scripted.pt']

describe('attention readers', () => {
  for (const f of FIXT)
    test(`${f.name}: every format + model.source → one attention IR (${f.heads} head(s), ${f.pool}); float = PyTorch within 1e-5; twin within ${f.fixedTol}`, async () => {
      const dir = path.join(SEQ, f.name)
      const data = await readAllRows(path.join(dir, 'test.csv'), { label: f.label })
      const ref = torchOut(dir)
      const irs = new Set<string>()
      for (const file of FILES) {
        const model = await loadModel({ path: path.join(dir, file), source: path.join(dir, 'model.py'), class: f.cls, inputShape: [16, 8] })
        expect(model.attention, file).toMatchObject({ tokens: 16, embed: 8, heads: f.heads, pool: f.pool })
        irs.add(JSON.stringify([model.attention, model.layers]))
        let worst = 0
        let fixedWorst = 0
        const plan = makePlan(model, { fraction: 20, weightBytes: 2, inputBytes: 4 })
        data.features.forEach((x, i) => {
          const y = referenceForward(model, x)
          const q = simulate(plan, (encodeRow(plan, x) as { values: bigint[] }).values)
          y.forEach((v, j) => {
            worst = Math.max(worst, Math.abs(v - ref[i]![j]!))
            fixedWorst = Math.max(fixedWorst, Math.abs(Number(q[j]!) / 2 ** 20 - v))
          })
        })
        expect(worst, file).toBeLessThan(1e-5)
        expect(fixedWorst, file).toBeLessThan(f.fixedTol)
        expect(fixedWorst, file).toBeGreaterThan(0)
      }
      // float32 files widen exactly; the JSON holds the same float32 values as doubles
      expect(irs.size).toBe(1)
    })

  const SRC = (init: string, call: string, ret: string) =>
    `import torch.nn as nn\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        ${init}\n        self.fc = nn.Linear(8, 1)\n\n    def forward(self, x):\n        ${call}\n        ${ret}\n`
  const ATT = 'self.attn = nn.MultiheadAttention(8, 1, batch_first=True)'
  const CALL = 'a, _ = self.attn(x, x, x)'
  const refusals: [string, string, string, RegExp][] = [
    [ATT, 'a, _ = self.attn(x, x, x, attn_mask=self.mask)', 'return self.fc(a.mean(dim=1))', /with attn_mask .* not supported on chain/],
    [ATT, 'a, _ = self.attn(x, x, x, key_padding_mask=m)', 'return self.fc(a.mean(dim=1))', /with key_padding_mask .* not supported on chain/],
    [ATT, 'a, _ = self.attn(x, y, y)', 'return self.fc(a.mean(dim=1))', /cross-attention \(query x, key y, value y\)/],
    [ATT, CALL, 'return self.fc(a.mean(dim=0))', /not a pooling of MultiheadAttention's output .*batch_first=True/],
    [ATT, CALL, 'return self.fc(_[:, -1, :])', /MultiheadAttention's attention weights in a way ml2sc does not run/],
    [ATT, CALL, 'return self.fc(a)', /output sequence must be pooled/],
    ['self.attn = nn.MultiheadAttention(8, 1, add_bias_kv=True)', CALL, 'return self.fc(a[-1])', /add_bias_kv .* not supported on chain yet/],
    ['self.attn = nn.MultiheadAttention(8, 1, kdim=4)', CALL, 'return self.fc(a[-1])', /with kdim .* not supported/],
    ['self.attn = nn.TransformerEncoder(self.layer, 2)', 'a = self.attn(x)', 'return self.fc(a[-1])', /nn.TransformerEncoder at model.py:\d .* not supported on chain yet/],
    ['self.attn = nn.TransformerEncoderLayer(8, 2, 16, activation=F.silu)', 'a = self.attn(x)', 'return self.fc(a[-1])', /TransformerEncoderLayer with activation F.silu .* not supported/],
    ['self.attn = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)', 'a = self.attn(x, src_mask=m)', 'return self.fc(a.mean(dim=1))', /TransformerEncoderLayer 'attn' with src_mask= .* not supported on chain/],
  ]
  for (const [init, call, ret, err] of refusals)
    test(`refused in one line: ${init.replace('self.attn = ', '')} / ${call} / ${ret}`, async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-attn-'))
      writeFileSync(path.join(dir, 'model.py'), SRC(init, call, ret))
      const p = loadModel({ path: path.join(SEQ, 'attn_sine', 'state_dict.pt'), source: path.join(dir, 'model.py'), inputShape: [16, 8] })
      await expect(p).rejects.toThrow(err)
      const msg = await p.then(() => '', (e: Error) => e.message)
      expect(msg.split('\n')[0]!.length).toBeGreaterThan(20)
    })

  test('refused: a window of 33 tokens, a window that is not [T, E], a missing inputShape; heads that do not divide E', async () => {
    const dir = path.join(SEQ, 'attn_sine')
    const at = (inputShape?: number[]) => loadModel({ path: path.join(dir, 'state_dict.pt'), source: path.join(dir, 'model.py'), ...(inputShape ? { inputShape } : {}) })
    await expect(at([33, 8])).rejects.toThrow(/over 33 tokens: at most 32 on chain/)
    await expect(at([16, 4])).rejects.toThrow(/takes tokens of 8 features but model.inputShape is \[16, 4\]/)
    await expect(at()).rejects.toThrow(/model.inputShape: \[T, E\]/)
    const tmp = mkdtempSync(path.join(tmpdir(), 'ml2sc-attn-'))
    writeFileSync(path.join(tmp, 'model.py'), SRC('self.attn = nn.MultiheadAttention(8, 3, batch_first=True)', CALL, 'return self.fc(a.mean(dim=1))'))
    await expect(loadModel({ path: path.join(dir, 'state_dict.pt'), source: path.join(tmp, 'model.py'), inputShape: [16, 8] })).rejects.toThrow(/has 3 heads: ml2sc runs 1 to 4 heads that divide embed_dim 8/)
  })

  // ONNX: torch's export of MultiheadAttention and TransformerEncoderLayer is read: test/model/attention-onnx.test.ts;
  // TorchScript trace and script with no model.source: test/model/sequence-format-matrix.test.ts
})

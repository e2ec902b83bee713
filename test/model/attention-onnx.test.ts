// Self-attention from ONNX (issue 20): torch.onnx.export's pattern for nn.MultiheadAttention (batch_first either
// way, static or dynamic batch axis) and for nn.TransformerEncoderLayer (post-norm relu; pre-norm gelu with 4 heads)
// reads to the same attention IR as the state_dict with model.source, and its float forward equals PyTorch's
// outputs; a mask, cross-attention and kdim ≠ embed_dim are refused in one line naming the layer.
// Fixtures: scripts/make-attention-fixtures.py (the `onnx` part writes model_dynamic.onnx, encoder_pre, attn_refused).
import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { readAllRows } from '../../src/data/readCsv.ts'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { FIXTURES } from '../helpers/paths.ts'

const SEQ = path.join(FIXTURES, 'seq')
const torchOut = (dir: string) => readFileSync(path.join(dir, 'reference.csv'), 'utf8').trim().split('\n').map((l) => l.split(',').map(Number))
const CASES = [
  { name: 'attn_sine', file: 'model.onnx', cls: 'AttnForecaster', label: 'next', heads: 1, pool: 'mean' },
  { name: 'attn_sine', file: 'model_dynamic.onnx', cls: 'AttnForecaster', label: 'next', heads: 1, pool: 'mean' },
  { name: 'attn2_cls', file: 'model.onnx', cls: 'AttnClassifier', label: 'label', heads: 2, pool: 'last' },
  { name: 'attn2_cls', file: 'model_dynamic.onnx', cls: 'AttnClassifier', label: 'label', heads: 2, pool: 'last' },
  { name: 'encoder_cls', file: 'model.onnx', cls: 'EncoderClassifier', label: 'label', heads: 2, pool: 'sum' },
  { name: 'encoder_pre', file: 'model.onnx', cls: 'EncoderPreNorm', label: 'label', heads: 4, pool: 'flatten' },
] as const

describe('attention from ONNX', () => {
  for (const c of CASES)
    test(`${c.name}/${c.file}: ${c.heads} head(s), ${c.pool}; the IR of state_dict + model.py; float = PyTorch within 1e-5`, async () => {
      const dir = path.join(SEQ, c.name)
      // no model.inputShape: the window comes from the graph input (dynamic batch: the other two axes)
      const model = await loadModel({ path: path.join(dir, c.file) })
      expect(model.format).toBe('onnx')
      expect(model.inputShape).toEqual([16, 8])
      expect(model.attention).toMatchObject({ tokens: 16, embed: 8, heads: c.heads, pool: c.pool })
      const fromSource = await loadModel({ path: path.join(dir, 'state_dict.pt'), source: path.join(dir, 'model.py'), class: c.cls, inputShape: [16, 8] })
      // the same float32 weights, the same encoder (norm_first, activation, eps), the same Linear head
      expect(JSON.stringify([model.attention, model.layers])).toBe(JSON.stringify([fromSource.attention, fromSource.layers]))
      const data = await readAllRows(path.join(dir, 'test.csv'), { label: c.label })
      const ref = torchOut(dir)
      let worst = 0
      data.features.forEach((x, i) => referenceForward(model, x).forEach((v, j) => (worst = Math.max(worst, Math.abs(v - ref[i]![j]!)))))
      expect(worst).toBeLessThan(1e-5)
    })

  test("attn2_cls/model_softmax.onnx: a Softmax after the head is the head's activation, not a second attention; = softmax of PyTorch's logits", async () => {
    const dir = path.join(SEQ, 'attn2_cls')
    const model = await loadModel({ path: path.join(dir, 'model_softmax.onnx') })
    expect(model.attention).toMatchObject({ name: 'inner.attn', heads: 2, pool: 'last' })
    expect(model.layers.map((l) => l.activation.kind)).toEqual(['softmax'])
    const data = await readAllRows(path.join(dir, 'test.csv'), { label: 'label' })
    const probs = torchOut(dir).map((r) => {
      const e = r.map((v) => Math.exp(v - Math.max(...r)))
      return e.map((v) => v / e.reduce((a, b) => a + b, 0))
    })
    let worst = 0
    data.features.forEach((x, i) => referenceForward(model, x).forEach((v, j) => (worst = Math.max(worst, Math.abs(v - probs[i]![j]!)))))
    expect(worst).toBeLessThan(1e-5)
  })

  const REFUSED: [string, RegExp][] = [
    ['mask', /^MultiheadAttention \(ONNX pattern\) 'attn' with a mask \(attn_mask, key_padding_mask or a causal mask added to the scores\) \(node '\/attn\/\w+'\): not supported on chain$/],
    ['cross', /^MultiheadAttention \(ONNX pattern\) 'attn' whose query is not a slice of one packed q\/k\/v projection \(cross-attention or kdim\/vdim ≠ embed_dim\)/],
    ['kdim', /^MultiheadAttention \(ONNX pattern\) 'attn' whose \w+ is not a slice of one packed q\/k\/v projection \(cross-attention or kdim\/vdim ≠ embed_dim\)/],
  ]
  for (const [name, err] of REFUSED)
    test(`refused in one line naming the layer: ${name}.onnx`, async () => {
      const msg = await loadModel({ path: path.join(SEQ, 'attn_refused', `${name}.onnx`) }).then(
        () => 'loaded',
        (e: { shortMessage?: string }) => e.shortMessage ?? '',
      )
      expect(msg).toMatch(err)
      expect(msg).not.toContain('\n')
    })
})

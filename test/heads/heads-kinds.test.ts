// Issue 19, multi-output models beyond a dense trunk (real PyTorch, scripts/make-heads-fixture.py → heads_more.py):
// a softmax / log_softmax ending one of two heads, two heads after a CNN (digits 8×8), two heads after a GRU.
// Every format that expresses each model reads to the same graph, the float pass equals PyTorch per head,
// and the fixed-point twin is within 1e-3 of PyTorch with the softmax head computed by the shared softmax twin.
import { describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import { simulateLayers } from '../../src/fixed/simulate.ts'
import { encodeRow } from '../../src/fixed/encodeRows.ts'
import { softmaxFixed } from '../../src/ir/ops/softmax.ts'
import { logSoftmax } from '../../src/ir/ops/logSoftmax.ts'
import { buildModel } from '../../src/ir/buildModel.ts'
import { headReturnsOf, headsOf, headTaskOf } from '../../src/ir/heads.ts'
import type { ModelIR, TensorMap } from '../../src/ir/types.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { inspectTarget, renderInspect } from '../../src/commands/inspect.ts'
import type { ModelSpec } from '../../src/model/types.ts'
import { FIXTURES } from '../helpers/paths.ts'

const G = path.join(FIXTURES, 'graph')
const csv = (f: string) => readFileSync(f, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number))
const at = (d: string, f: string) => path.join(G, d, f)
/** The test rows' features (the first n columns) and PyTorch's outputs (reference.csv without its row index). */
const data = (d: string, n: number, ref = 'reference.csv') => ({ rows: csv(at(d, 'test.csv')).map((r) => r.slice(0, n)), torch: csv(at(d, ref)).map((r) => r.slice(1)) })

/** Largest |float pass − PyTorch| over the rows. */
function floatGap(m: ModelIR, rows: number[][], torch: number[][]): number {
  let worst = 0
  rows.forEach((r, i) => referenceForward(m, r).forEach((v, j) => (worst = Math.max(worst, Math.abs(v - torch[i]![j]!)))))
  return worst
}
const shape = (m: ModelIR) => m.layers.map((l) => [l.name.replace(/^cls\.0$/, 'cls'), l.activation.kind, l.input ?? null])

const FORMATS: [string, number, string, ModelSpec[], string?][] = [
  ['heads_softmax_wine', 12, 'softmax', [{ path: at('heads_softmax_wine', 'model.state_dict.pt'), source: at('heads_softmax_wine', 'model.py') }, { path: at('heads_softmax_wine', 'model.onnx') }, { path: at('heads_softmax_wine', 'trace.pt') }, { path: at('heads_softmax_wine', 'script.pt') }]],
  ['heads_softmax_wine', 12, 'log_softmax', [{ path: at('heads_softmax_wine', 'model_log.state_dict.pt'), source: at('heads_softmax_wine', 'model_log.py') }, { path: at('heads_softmax_wine', 'model_log.onnx') }], 'reference_log.csv'],
  ['heads_cnn_digits', 64, 'cnn', [{ path: at('heads_cnn_digits', 'model.state_dict.pt'), source: at('heads_cnn_digits', 'model.py'), inputShape: [1, 8, 8] }, { path: at('heads_cnn_digits', 'model.onnx') }, { path: at('heads_cnn_digits', 'trace.pt'), inputShape: [1, 8, 8] }]],
  ['heads_attn_sine', 24, 'attn', [{ path: at('heads_attn_sine', 'model.state_dict.pt'), source: at('heads_attn_sine', 'model.py'), inputShape: [6, 4] }, { path: at('heads_attn_sine', 'trace.pt'), source: at('heads_attn_sine', 'model.py'), inputShape: [6, 4] }]],
  ['heads_gru_sine', 8, 'gru', [{ path: at('heads_gru_sine', 'model.state_dict.pt'), source: at('heads_gru_sine', 'model.py'), inputShape: [8, 1] }, { path: at('heads_gru_sine', 'model.onnx') }, { path: at('heads_gru_sine', 'trace.pt'), inputShape: [8, 1] }, { path: at('heads_gru_sine', 'script.pt'), inputShape: [8, 1] }]],
]

describe('heads after a softmax, a CNN, a GRU and self-attention: every format reads the same graph, equal to PyTorch', () => {
  for (const [d, n, kind, specs, ref] of FORMATS)
    test(`${kind}: ${specs.map((s) => path.basename(s.path)).join(', ')}`, async () => {
      const { rows, torch } = data(d, n, ref)
      const models = await Promise.all(specs.map((s) => loadModel(s)))
      for (const m of models) {
        expect(shape(m)).toEqual(shape(models[0]!))
        expect(m.heads!.map((h) => h.size)).toEqual(models[0]!.heads!.map((h) => h.size))
        expect(floatGap(m, rows, torch)).toBeLessThan(1e-4)
      }
      const m = models[0]!
      const heads = headsOf(m, 0)
      if (kind === 'cnn') {
        // the conv stack, then cls reads its flattened output (value 0), ink1 too, ink2 after ink1; `heads` lays digit and ink side by side
        expect(m.tensorLayers!.map((l) => l.kind)).toEqual(['conv', 'maxpool'])
        expect(shape(m)).toEqual([['cls', 'identity', null], ['ink1', 'relu', { op: 'concat', values: [0] }], ['ink2', 'identity', null], ['heads', 'identity', { op: 'concat', values: [1, 3] }]])
        expect(m.heads).toEqual([{ name: 'digit', size: 10 }, { name: 'ink', size: 1 }])
        expect(heads.map((h) => headTaskOf(m, h))).toEqual(['multiclass', 'regression'])
        const shown = renderInspect(await inspectTarget(at(d, 'model.onnx')))
        expect(shown).toContain("layer 4 'ink1' reads the output of 'MaxPool'")
        expect(shown).toContain('outputs      digit (10), then ink (1)')
      } else if (kind === 'gru' || kind === 'attn') {
        if (kind === 'gru') expect(m.recurrent!.kind).toBe('gru')
        else expect(m.attention).toMatchObject({ tokens: 6, embed: 4, heads: 2, pool: 'mean' })
        expect(shape(m)).toEqual([['next', 'identity', null], ['up', 'identity', { op: 'concat', values: [0] }], ['heads', 'identity', { op: 'concat', values: [1, 2] }]])
        if (kind === 'gru') expect(models[1]!.heads!.map((h) => h.name)).toEqual(['next', 'up']) // ONNX output_names
        expect(heads.map((h) => headTaskOf(m, h))).toEqual(['regression', 'multiclass'])
      } else {
        // the class head's layer ends in the (log-)softmax; the alcohol head reads the trunk
        expect(shape(m)).toEqual([['trunk', 'relu', null], ['cls', kind, null], ['reg', 'identity', { op: 'concat', values: [1] }], ['heads', 'identity', { op: 'concat', values: [2, 3] }]])
        expect(heads.map((h) => headTaskOf(m, h))).toEqual(['multiclass', 'regression'])
        // report.json's heads[].returns
        expect(heads.map((h) => headReturnsOf(m, h) ?? null)).toEqual([kind === 'softmax' ? 'probabilities' : 'log-probabilities', null])
      }
      // fixed point at 2^20: every head within 1e-3 of PyTorch; the softmax head is the shared twin of the logits
      const plan = makePlan(m, { fraction: 20, weightBytes: 2, inputBytes: 4 })
      for (const [i, r] of rows.slice(0, 10).entries()) {
        const enc = encodeRow(plan, r)
        if (!enc.ok) throw new Error(`row ${i} out of range`)
        const t = simulateLayers(plan, enc.values)
        t.at(-1)!.forEach((v, j) => expect(Math.abs(Number(v) / 2 ** 20 - torch[i]![j]!)).toBeLessThan(1e-3))
        if (kind === 'softmax' || kind === 'log_softmax') {
          const cls = plan.layers[1]!
          const logits = cls.weights.map((row, j) => row.reduce((acc, w, k) => acc + w * t[0]![k]!, cls.biases[j]!) >> BigInt(cls.wShift))
          const want = kind === 'softmax' ? softmaxFixed(logits, plan.scale) : logSoftmax.fixed(logits, { kind: 'log_softmax' }, 0n, { scale: plan.scale, slopeBits: plan.slopeBits })
          expect(t.at(-1)!.slice(0, 3)).toEqual(want)
        }
      }
    })

  test('a TransformerEncoderLayer\'s mean over the tokens (a sum on chain) read by two heads: both Linears take 1/T; the bare mean as an output is refused', async () => {
    const E = path.join(FIXTURES, 'seq', 'encoder_cls')
    const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-enc-heads-'))
    // the fixture's weights with a second head, a copy of the first: each head must equal PyTorch's outputs
    const w = JSON.parse(readFileSync(path.join(E, 'weights.json'), 'utf8'))
    writeFileSync(path.join(dir, 'weights.json'), JSON.stringify({ ...w, 'head2.weight': w['head.weight'], 'head2.bias': w['head.bias'] }))
    const src = readFileSync(path.join(E, 'model.py'), 'utf8').replace('self.head = nn.Linear(8, 3)', 'self.head = nn.Linear(8, 3)\n        self.head2 = nn.Linear(8, 3)')
    writeFileSync(path.join(dir, 'model.py'), src.replace('return self.head(h.mean(dim=1))', 'm = h.mean(dim=1)\n        return self.head(m), self.head2(m)'))
    const m = await loadModel({ path: path.join(dir, 'weights.json'), source: path.join(dir, 'model.py'), inputShape: [16, 8] })
    expect(m.attention!.pool).toBe('sum')
    expect(m.heads!.map((h) => h.size)).toEqual([3, 3])
    const rows = csv(path.join(E, 'test.csv')).map((r) => r.slice(0, 128))
    const torch = readFileSync(path.join(E, 'reference.csv'), 'utf8').trim().split('\n').map((l) => l.split(',').map(Number))
    expect(floatGap(m, rows, torch.map((r) => [...r, ...r]))).toBeLessThan(1e-5)
    const bare = readFileSync(path.join(E, 'model.py'), 'utf8').replace('return self.head(h.mean(dim=1))', 'm = h.mean(dim=1)\n        return self.head(m), m')
    writeFileSync(path.join(dir, 'model.py'), bare)
    await expect(loadModel({ path: path.join(E, 'weights.json'), source: path.join(dir, 'model.py'), inputShape: [16, 8] })).rejects.toThrow('an output is the mean over the tokens itself')
  })

  test('a softmax inside a head, read by another Linear, is still refused with the layer named', () => {
    const lin = (o: number, i: number) => ({ shape: [o, i], data: new Float64Array(o * i).fill(0.1) })
    const tensors: TensorMap = new Map([['a.weight', lin(3, 4)], ['b.weight', lin(2, 3)], ['c.weight', lin(1, 4)]])
    const steps = [{ op: 'heads' as const, names: ['p', 'v'], branches: [[{ op: 'linear' as const, name: 'a' }, { op: 'activation' as const, activation: { kind: 'softmax' as const } }, { op: 'linear' as const, name: 'b' }], [{ op: 'linear' as const, name: 'c' }]] }]
    expect(() => buildModel([{ op: 'linear', name: 't' }, ...steps], new Map([...tensors, ['t.weight', lin(4, 4)]]), 'test', 'm.py')).toThrow("softmax is only supported on the last layer (found after 'a')")
    // ending its head, the same softmax is taken
    const ok = buildModel([{ op: 'linear', name: 't' }, { ...steps[0]!, branches: [steps[0]!.branches[0]!.slice(0, 2), steps[0]!.branches[1]!] }], new Map([...tensors].filter(([k]) => k !== 'b.weight').concat([['t.weight', lin(4, 4)]])), 'test', 'm.py')
    expect(ok.heads).toEqual([{ name: 'p', size: 3 }, { name: 'v', size: 1 }])
  })
})

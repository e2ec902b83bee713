// Issue 19, heads after an LSTM, a TransformerEncoderLayer and MultiheadAttention from ONNX (real PyTorch,
// scripts/make-heads-fixture.py → heads_seq.py): every format that expresses each model reads to the same
// graph and weights, the float pass is within 1e-5 of PyTorch and the fixed-point twin within 1e-4; heads are
// named by the ONNX output names and by model.py's `return self.next(h), self.up(h)`. `ml2sc init` writes a
// label column per head and the window [T, F] / [T, E] from the CSV for each (no edits needed to run). The
// parameter count is PyTorch's (an encoder layer's feed-forward and LayerNorms included).
import { describe, expect, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { loadModel } from '../../src/model/loadModel.ts'
import type { ModelIR } from '../../src/ir/types.ts'
import type { ModelSpec } from '../../src/model/types.ts'
import { headsOf, headTaskOf } from '../../src/ir/heads.ts'
import { parameterCount } from '../../src/ir/taskOf.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { featureRows, fixtureProject } from '../helpers/fixtureProject.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { pytorchOutputs, worstErrors } from '../helpers/pytorchOutputs.ts'

const G = path.join(FIXTURES, 'graph')
/** A spec per format: `file` alone, or `file+model.py` (a state_dict or whole .pt with its source). */
const spec = (d: string, f: string, shape: number[]): ModelSpec => {
  const [p, src] = f.split('+')
  return { path: path.join(G, d, p!), ...(src ? { source: path.join(G, d, src) } : {}), ...(p!.endsWith('.onnx') ? {} : { inputShape: shape }) }
}
/** What a run computes with: the layers, the recurrent or attention block, the input size (the format and names aside). */
const body = (m: ModelIR) => JSON.stringify({ layers: m.layers, recurrent: m.recurrent, attention: m.attention, inputSize: m.inputSize })

// fixture, window, formats, PyTorch's parameter count (sum of the state_dict's numel: the encoder's feed-forward and norms count)
const CASES: [string, number[], string[], number][] = [
  ['heads_lstm_sine', [8, 1], ['model.state_dict.pt+model.py', 'whole.pt+model.py', 'model.onnx', 'trace.pt', 'script.pt'], 379],
  ['heads_encoder_sine', [6, 4], ['model.state_dict.pt+model.py', 'whole.pt+model.py', 'model.onnx', 'trace.pt', 'script.pt'], 187],
  ['heads_attn_sine', [6, 4], ['model.state_dict.pt+model.py', 'whole.pt+model.py', 'model.onnx', 'trace.pt', 'script.pt'], 95],
]

describe('heads after an LSTM, an encoder layer and attention: every format reads the same model, equal to PyTorch', () => {
  for (const [d, shape, formats, params] of CASES)
    test(`${d}: ${formats.join(', ')}`, async () => {
      const models = await Promise.all(formats.map((f) => loadModel(spec(d, f, shape))))
      const rows = featureRows(path.join(G, d), shape[0]! * shape[1]!)
      const torch = pytorchOutputs(path.join(G, d))
      for (const [i, m] of models.entries()) {
        expect([formats[i], body(m)]).toEqual([formats[i], body(models[0]!)])
        const e = worstErrors(m, rows, torch)
        expect(e.float).toBeLessThan(1e-5)
        expect(e.fixed).toBeLessThan(1e-4)
        // model.py's `return self.next(last), self.up(last)` and ONNX's output_names both name the heads; TorchScript keeps no names
        const names = formats[i]!.includes('model.py') || formats[i]!.endsWith('.onnx') ? ['next', 'up'] : ['out0', 'out1']
        expect(m.heads).toEqual([{ name: names[0]!, size: 1 }, { name: names[1]!, size: 2 }])
        expect(headsOf(m, 3).map((h) => headTaskOf(m, h))).toEqual(['regression', 'multiclass'])
        expect(parameterCount(m)).toBe(params)
      }
      const m = models[0]!
      if (d === 'heads_lstm_sine') expect(m.recurrent).toMatchObject({ kind: 'lstm', hidden: 8 })
      else expect(m.attention).toMatchObject({ tokens: 6, embed: 4, heads: 2, pool: d === 'heads_encoder_sine' ? 'sum' : 'mean' })
      if (d === 'heads_encoder_sine') expect(m.attention!.encoder).toMatchObject({ normFirst: false, act: { kind: 'relu' } })
      // the two heads read the pooled value side by side, then the `heads` layer lays them out
      expect(m.layers.map((l) => [l.name, l.input ?? null])).toEqual([['next', null], ['up', { op: 'concat', values: [0] }], ['heads', { op: 'concat', values: [1, 2] }]])
    })

  test('a whole .pt of the LSTM with heads and no source is refused in one line naming the class and the fix', async () => {
    const e = await loadModel({ path: path.join(G, 'heads_lstm_sine', 'whole.pt') }).catch((x: Error) => x)
    expect(e).toBeInstanceOf(Error)
    expect((e as Error).message).toContain("'LstmHeads' is a custom nn.Module")
    expect((e as Error).message).toContain('model.source')
  })
})

describe('ml2sc init for heads after a sequence model: a label column per head, the window from the CSV', () => {
  // each fixture in a format that names its heads as the CSV does (next, up) and one that does not (out0, out1)
  // fixture, files, model file, the window init must write ('' for none), feature count, label columns, how found
  const INITS: [string, string[], string, string, number, string, string][] = [
    ['heads_lstm_sine', ['model.state_dict.pt', 'model.py'], 'model.state_dict.pt', 'inputShape: [8, 1]', 8, 'next, up', "'next' by its name"],
    ['heads_lstm_sine', ['script.pt'], 'script.pt', 'inputShape: [8, 1]', 8, 'next, up', 'the last 2 columns'],
    ['heads_encoder_sine', ['trace.pt'], 'trace.pt', 'inputShape: [6, 4]', 24, 'next, up', 'the last 2 columns'],
    ['heads_encoder_sine', ['model.state_dict.pt', 'model.py'], 'model.state_dict.pt', 'inputShape: [6, 4]', 24, 'next, up', "'next' by its name"],
    ['heads_attn_sine', ['model.onnx'], 'model.onnx', '', 24, 'next, up', "'next' by its name"],
    ['heads_attn_sine', ['trace.pt'], 'trace.pt', 'inputShape: [6, 4]', 24, 'next, up', 'the last 2 columns'],
    // heads out0/reg (a softmax head, then self.reg(h)): `label` found by its name is one of the last 2 columns
    ['heads_softmax_wine', ['model.state_dict.pt', 'model.py'], 'model.state_dict.pt', '', 12, 'label, alcohol', 'the last 2 columns'],
    // a CNN's heads: the first head's first Linear gives the flattened size, so the image shape is found
    ['heads_cnn_digits', ['model.state_dict.pt', 'model.py'], 'model.state_dict.pt', 'inputShape: [1, 8, 8]', 64, 'label, ink', "'label' by its name"],
  ]
  for (const [d, files, model, shape, features, labels, how] of INITS)
    test(`${d} from ${files.join(' + ')}`, async () => {
      const dir = fixtureProject(path.join(G, d), [...files, 'test.csv', 'reference.csv'], `ml2sc-${d}-init-`)
      const r = await runCliInProcess(['init', model, '--data', 'test.csv'], { cwd: dir })
      expect(r.stderr).not.toContain('ml2sc: error')
      expect(r.code).toBe(0)
      const yaml = readFileSync(path.join(dir, 'ml2sc.yaml'), 'utf8')
      expect(yaml).toMatch(new RegExp(`\\n {2}label: \\[${labels}\\] +# GUESSED: a column per output \\([^)]*\\): ${how}`))
      if (shape) expect(yaml).toContain(shape)
      else expect(yaml).not.toContain('inputShape')
      expect(yaml).not.toContain('WARNING')
      expect(r.stdout + r.stderr).toContain(`labels ${labels} (a column per output`)
      expect(r.stdout + r.stderr).toContain(`, ${features} features`)
    })

  test('a class head whose column holds no class indices: no label list is guessed, and init warns that the columns do not fit', async () => {
    const dir = fixtureProject(path.join(G, 'heads_lstm_sine'), ['script.pt'], 'ml2sc-heads-init-bad-')
    // the columns swapped: `up` (0/1) before `next` (a float), so the class head's column would be `next`
    const lines = readFileSync(path.join(G, 'heads_lstm_sine', 'test.csv'), 'utf8').trim().split('\n').map((l) => l.split(','))
    writeFileSync(path.join(dir, 'test.csv'), lines.map((c) => [...c.slice(0, 8), c[9], c[8]].join(',')).join('\n') + '\n')
    const r = await runCliInProcess(['init', 'script.pt', '--data', 'test.csv'], { cwd: dir })
    expect(r.code).toBe(0)
    const yaml = readFileSync(path.join(dir, 'ml2sc.yaml'), 'utf8')
    expect(yaml).not.toContain('label: [')
    // the window was taken as one label column per head (8 steps): the one label left 9 features, and init says so
    expect(yaml).toContain('inputShape: [8, 1]')
    expect(yaml).toContain("# WARNING: test.csv has 9 feature columns after the label 'next'")
  })
})

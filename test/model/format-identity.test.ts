// Issue 19, "each construct runs exact to PyTorch on chain from each format that can express it": the graph,
// norm, pooling and heads fixtures lacked formats (model.py + state_dict and ONNX only, or no whole .pt);
// scripts/add-formats.py wrote each one's missing TorchScript trace and script and whole pickled .pt from its
// committed weights (checked against its reference.csv). Every format reads to the identical model (layers, weights, conv/pool stack; names aside), so
// the on-chain tests of one format (e2e/graph-models, norm-models, layers-onchain, layers-init-run,
// multi-output, heads-run, heads-kinds-onchain) hold for each; the float pass is within 1e-5 of PyTorch. (Those
// names are the tests' original files: graph-models, norm-models and layers-init-run are now in e2e/init-run,
// multi-output in e2e/fidelity-multi-output, heads-kinds-onchain in e2e/kinds-onchain.)
// LayerNorm and GroupNorm are read from TorchScript and whole .pt module trees, and registered buffers from a
// TorchScript forward ((x - self.mean) / self.std: torch.sub/div/mul of a buffer, pt/bufferCalls.ts); both were refused.
import { describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import path from 'node:path'
import type { ModelIR } from '../../src/ir/types.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { featureRows } from '../helpers/fixtureProject.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { pytorchOutputs, worstErrors } from '../helpers/pytorchOutputs.ts'

/** What a run computes with: layers, weights, the conv/pool stack without its layers' names (ONNX names them by op). */
const body = (m: ModelIR) => JSON.stringify({ layers: m.layers, tensorLayers: m.tensorLayers?.map((l) => ({ ...l, name: undefined })), inputSize: m.inputSize })

// fixture, feature columns, the input shape formats other than ONNX need, and its on-chain test
const CASES: [string, number, number[] | undefined, string][] = [
  ['layers/adaptive_digits', 64, [1, 8, 8], 'layers-init-run'],
  ['layers/pools_digits', 64, [1, 8, 8], 'layers-onchain (state_dict, ONNX), layers-init-run (ONNX)'],
  ['layers/block_wine', 13, undefined, 'layers-onchain'],
  ['layers/pools_signal', 64, [1, 64], 'layers-onchain'],
  ['graph/norm_digits', 64, undefined, 'norm-models'],
  ['graph/ln_residual_wine', 13, undefined, 'norm-models (ONNX)'],
  ['graph/standardized_wine', 13, undefined, 'graph-models'],
  ['graph/residual_wine', 13, undefined, 'graph-models (state_dict, ONNX)'],
  ['graph/concat_digits', 64, undefined, 'graph-models'],
  ['graph/heads_wine', 12, undefined, 'multi-output (state_dict, ONNX)'],
  ['graph/heads_cnn_digits', 64, [1, 8, 8], 'heads-run (CNN, ONNX), heads-kinds-onchain (state_dict)'],
  ['graph/heads_softmax_wine', 12, undefined, 'heads-kinds-onchain (ONNX)'],
  ['graph/heads_gru_sine', 8, [8, 1], 'heads-kinds-onchain (script)'],
  ['graph/heads_lstm_sine', 8, [8, 1], 'heads-run (LSTM)'],
  ['graph/heads_attn_sine', 24, [6, 4], 'heads-run (attention, ONNX), heads-kinds-onchain (trace)'],
  ['graph/heads_encoder_sine', 24, [6, 4], 'heads-run (encoder, ONNX)'],
  // an nn.Sequential: its own module tree in each format, no model.py
  ['layers/pools_seq', 64, [1, 8, 8], 'layers-onchain (whole .pt)'],
]

describe('every format of the graph, norm, pool and heads fixtures reads to the same model, equal to PyTorch', () => {
  for (const [d, n, shape, onChain] of CASES)
    test(`${d} (on chain: ${onChain})`, async () => {
      const dir = path.join(FIXTURES, d)
      const pt = (k: string) => (existsSync(path.join(dir, 'trace.pt')) ? `${k}.pt` : `model.${k}.pt`)
      const py = existsSync(path.join(dir, 'model.py'))
      const formats = [
        ...(py ? ['model.state_dict.pt+model.py'] : []),
        ...['model.onnx', pt('trace'), pt('script')].filter((f) => existsSync(path.join(dir, f))),
        py ? `${pt('whole')}+model.py` : pt('whole'),
      ]
      expect(formats.length).toBeGreaterThanOrEqual(3)
      const rows = featureRows(dir, n)
      const torch = pytorchOutputs(dir)
      let first: string | undefined
      for (const f of formats) {
        const [p, src] = f.split('+')
        const m = await loadModel({ path: path.join(dir, p!), ...(src ? { source: path.join(dir, src) } : {}), ...(shape && !p!.endsWith('.onnx') ? { inputShape: shape } : {}) })
        first ??= body(m)
        expect([f, body(m)]).toEqual([f, first])
        expect(worstErrors(m, rows, torch).float).toBeLessThan(1e-5)
      }
      // without model.py a whole .pt of a custom class holds no forward(): one line asking for the source
      if (py) await expect(loadModel({ path: path.join(dir, pt('whole')), ...(shape ? { inputShape: shape } : {}) })).rejects.toThrow(/is a custom nn.Module: the pickle holds its submodules .* but not the order forward\(\) uses them/)
    })

  test('LayerNorm and GroupNorm from TorchScript and a whole .pt: the norm, its groups and eps, γ/β kept on chain before the ReLU', async () => {
    const G = path.join(FIXTURES, 'graph')
    for (const f of ['model.trace.pt', 'model.script.pt', 'model.whole.pt']) {
      const source = f.includes('whole') ? { source: path.join(G, 'norm_digits', 'model.py') } : {}
      const m = await loadModel({ path: path.join(G, 'norm_digits', f), ...source })
      // GroupNorm(4, 24) after fc2, then its γ/β per feature, then the ReLU (the ReLU between keeps them on chain)
      const act = m.layers[1]!.activation as { kind: string; ops?: { kind: string; size?: number; groups?: number; eps?: number }[] }
      expect(act.ops!.map((o) => o.kind)).toEqual(['layer_norm', 'affine', 'relu'])
      expect(act.ops![0]).toEqual({ kind: 'layer_norm', size: 24, groups: 4, eps: 1e-5 })
      // LayerNorm(16) twice on residual sums: the post op of each sum
      const ln = await loadModel({ path: path.join(G, 'ln_residual_wine', f), ...(f.includes('whole') ? { source: path.join(G, 'ln_residual_wine', 'model.py') } : {}) })
      expect(ln.layers.map((l) => l.input?.post?.kind ?? null)).toEqual([null, null, null, 'layer_norm', null, 'layer_norm'])
    }
  })
})

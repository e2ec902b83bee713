// Issue 20 on chain: the PyTorch-made sequence fixtures (GRU/LSTM forecasters and classifiers, 1-2 layers,
// bidirectional, whole-sequence heads; see scripts/make-sequence-fixtures.py), read from each format ml2sc
// supports for them (ONNX, state_dict / safetensors / whole .pt with model.source, TorchScript trace and
// script from their code), give on chain exactly
// what the simulator gives on every test row, and PyTorch's outputs within the tolerance; the example
// examples/timeseries-gru runs end to end through `ml2sc run`.
import { describe, expect, test } from 'bun:test'
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { readAllRows } from '../../src/data/readCsv.ts'
import { encodeRow } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import type { ModelSpec } from '../../src/model/types.ts'
import { deployCnn } from '../helpers/deployCnn.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { FIXTURES, ROOT } from '../helpers/paths.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'

const SEQ = path.join(FIXTURES, 'seq')
const FIXT = [
  // tolerances at int16 weights: the forecaster's output is ~1, the classifier's logits reach ~10
  { name: 'gru_sine', shape: [16, 1], label: 'next', cls: 'Forecaster', tol: 1e-4 },
  { name: 'lstm_cls', shape: [10, 2], label: 'label', cls: 'SeqClassifier', tol: 1e-3 },
  // two GRU layers (dropout between them); its ONNX has two GRU nodes
  { name: 'gru2_sine', shape: [16, 1], label: 'next', cls: 'Forecaster2', tol: 1e-4 },
  // issue 20 part 2: bidirectional fc(cat(h[-2], h[-1])); 2-layer LSTM fc(out.reshape(B, -1)); per-step Linear flattened
  { name: 'gru_bi_cls', shape: [10, 2], label: 'label', cls: 'BiClassifier', tol: 1e-3, more: true },
  { name: 'lstm2_sine', shape: [16, 1], label: 'next', cls: 'Forecaster2L', tol: 1e-4, more: true },
  { name: 'gru_bi_steps', shape: [10, 2], label: 'label', cls: 'BiSteps', tol: 1e-3, more: true },
]
const torchOut = (dir: string) => readFileSync(path.join(dir, 'reference.csv'), 'utf8').trim().split('\n').map((l) => l.split(',').map(Number))

function specs(dir: string, f: (typeof FIXT)[number]): [string, ModelSpec][] {
  const at = (n: string) => path.join(dir, n)
  const src = { source: at('model.py'), class: f.cls, inputShape: f.shape }
  return [
    ['onnx (the GRU/LSTM ops, shape from the graph)', { path: at('model.onnx') }],
    ['state_dict .pt + source', { path: at('state_dict.pt'), ...src }],
    ['whole-model .pt + source', { path: at('whole.pt'), ...src }],
    ['TorchScript trace (its code, no source)', { path: at('traced.pt'), inputShape: f.shape }],
    ...(('more' in f ? [['TorchScript script (its code, no source)', { path: at('scripted.pt'), inputShape: f.shape }], ['safetensors + source', { path: at('model.safetensors'), ...src }]] : []) as [string, ModelSpec][]),
  ]
}

let s: ChainSession
fileChain((c) => (s = c))

describe('sequence fixtures on chain', () => {
  for (const f of FIXT)
    test(`${f.name}: every format → one blob; chain = simulator on every row, PyTorch within ${f.tol} (and PyTorch's class)`, async () => {
      const dir = path.join(SEQ, f.name)
      const blobs = new Set<string>()
      let plan: ReturnType<typeof makePlan> | undefined
      for (const [format, spec] of specs(dir, f)) {
        const model = await loadModel(spec)
        expect(model.recurrent, format).toBeDefined()
        plan = makePlan(model, { fraction: 20, weightBytes: 2, inputBytes: 4 })
        blobs.add(Buffer.from(encodeWeights(plan)).toString('hex'))
      }
      expect(blobs.size).toBe(1)
      const c = await deployCnn(s, plan!, `Seq_${f.name}`)
      const data = await readAllRows(path.join(dir, 'test.csv'), { label: f.label })
      const rows = data.features.map((x) => (encodeRow(plan!, x) as { values: bigint[] }).values)
      const torch = torchOut(dir)
      // the simulator's outputs, once per row: compared with the chain's, then read for PyTorch's class
      const sims = rows.map((r) => simulate(plan!, r))
      let worst = 0
      for (let at = 0; at < rows.length; at += 10) {
        const { outputs } = await c.batch(rows.slice(at, at + 10))
        outputs.forEach((o, k) => {
          expect(o.map(String)).toEqual(sims[at + k]!.map(String))
          o.forEach((v, j) => (worst = Math.max(worst, Math.abs(Number(v) / 2 ** 20 - torch[at + k]![j]!))))
        })
      }
      const gas = await c.predictTxGas(rows[0]!)
      console.log(`${f.name}: max |chain − PyTorch| ${worst.toExponential(2)}; one predict ${gas.toLocaleString('en-US')} gas`)
      expect(worst).toBeLessThan(f.tol)
      expect(worst).toBeGreaterThan(0)
      if (torch[0]!.length > 1)
        for (let i = 0; i < rows.length; i++) {
          const o = sims[i]!.map(Number)
          expect(o.indexOf(Math.max(...o))).toBe(torch[i]!.indexOf(Math.max(...torch[i]!)))
        }
    }, 300_000)

  test('examples/timeseries-gru: `ml2sc run` end to end, PyTorch within the tolerance, ≤ 400k gas per predict', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'ml2sc-seq-run-'))
    const r = await runCliInProcess(['run', 'examples/timeseries-gru/ml2sc.yaml', '--out', out, '--quiet'], { cwd: ROOT })
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'))
    expect(report.simulator.mismatches).toBe(0)
    expect(report.error.maxAbs).toBeLessThan(1e-4)
    expect(report.gas.predictSingle).toBeLessThanOrEqual(400_000)
    expect(report.model.parameters).toBe(3 * 16 * (1 + 16 + 2) + 17)
    expect(report.model.recurrent).toEqual({ kind: 'gru', name: 'gru', steps: 16, features: 1, hidden: 16, layers: 1, directions: 1 })
    expect(report.gas.perTimeStep).toBe(Math.round((report.gas.predictSingle - 21_000) / 16))
    expect(readFileSync(path.join(out, 'report.md'), 'utf8')).toMatch(/\| … per time step \| 2\d,\d{3} \|/)
    expect(readFileSync(path.join(out, 'report.md'), 'utf8')).toContain('16×1 window → GRU 16 → 16-1')
    const v = await runCliInProcess(['verify', 'examples/timeseries-gru/ml2sc.yaml', '--out', out], { cwd: ROOT })
    expect(v.code, v.stderr).toBe(0)
    // predict on chain (eth_call) and off chain give the same rows
    const input = path.join(ROOT, 'examples/timeseries-gru/test.csv')
    const on = await runCliInProcess(['predict', 'examples/timeseries-gru/ml2sc.yaml', '--input', input, '--json', '--out', out], { cwd: ROOT })
    const off = await runCliInProcess(['predict', 'examples/timeseries-gru/ml2sc.yaml', '--input', input, '--json', '--offchain', '--out', out], { cwd: ROOT })
    expect(on.code, on.stderr).toBe(0)
    expect(JSON.parse(on.stdout).rows.length).toBe(40)
    expect(on.stdout).toBe(off.stdout)
    // inspect names the GRU, its window and its multiply-accumulates
    const ins = await runCliInProcess(['inspect', 'examples/timeseries-gru/ml2sc.yaml'], { cwd: ROOT })
    expect(ins.code, ins.stderr).toBe(0)
    expect(ins.stdout).toMatch(/gru ×16 steps +16 .* 912 +13,056/)
  }, 300_000)
})

test('a newcomer: `ml2sc init` on the GRU state_dict beside model.py and test.csv guesses [T, F], then `ml2sc run` passes', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-seq-init-'))
  for (const f of ['model.state_dict.pt', 'model.py', 'test.csv']) copyFileSync(path.join(ROOT, 'examples/timeseries-gru', f), path.join(dir, f))
  const init = await runCliInProcess(['init', 'model.state_dict.pt', '--data', 'test.csv'], { cwd: dir })
  expect(init.code, init.stderr).toBe(0)
  const yaml = readFileSync(path.join(dir, 'ml2sc.yaml'), 'utf8')
  expect(yaml).toMatch(/inputShape: \[16, 1\] +# GUESSED: the CSV's columns as T steps/)
  expect(yaml).toMatch(/class: Forecaster/)
  // init's config with 8 rows: the run over all 40 rows of this model is the examples/timeseries-gru test above
  writeFileSync(path.join(dir, 'ml2sc.yaml'), yaml.replace(/^data:\n/m, 'data:\n  limit: 8\n'))
  const run = await runCliInProcess(['run', 'ml2sc.yaml', '--quiet'], { cwd: dir })
  expect(run.code, run.stderr).toBe(0)
  expect(JSON.parse(readFileSync(path.join(dir, 'out', 'report.json'), 'utf8')).simulator.mismatches).toBe(0)
}, 300_000)

test('a state_dict with GRU weights and model.layers [linear] is refused: the GRU tensors are never dropped silently', async () => {
  await expect(loadModel({ path: path.join(ROOT, 'examples/timeseries-gru/model.state_dict.pt'), layers: ['linear'] })).rejects.toThrow(/weights no declared layer uses: gru.weight_ih_l0/)
})

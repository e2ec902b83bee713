// The multi-output (heads) models of issue 19 as a newcomer runs them, one file (one bun process, one module
// load) for the four runs that were four files: the two-head digits CNN, then the next/up sequence models after
// nn.MultiheadAttention, a TransformerEncoderLayer and an LSTM (helpers/headsRun.ts). Each test is as its file was.
//
// Issue 19, multi-output models as a newcomer runs them: the two-head digits CNN (class + ink, real PyTorch,
// scripts/heads_more.py) exported to ONNX. `ml2sc init model.onnx --data test.csv` writes label [label, ink]
// and `ml2sc run` deploys it unedited on its anvil (the one of this file): report.json, predictions.csv and
// predict --json name each head, each head within the tolerance of PyTorch, the simulator equal to the chain.
// The GRU with two heads gets its label columns from the heads' names too (init only: no second anvil here).
//
// Issue 19, heads after nn.MultiheadAttention read from ONNX: the MultiheadAttention(4, 2) next/up model
// (real PyTorch, scripts/heads_more.py; model.onnx exported from its state_dict by scripts/heads_seq.py with
// output_names next, up). `ml2sc init model.onnx` names the label columns from the ONNX outputs; `ml2sc run`
// unedited on its own anvil: the chain equals the simulator on every row, each head is within the tolerance of
// PyTorch and named (from the ONNX output names) in report.json, predictions.csv, the contract and predict
// --json (helpers/headsRun.ts).
//
// Issue 19, heads after a TransformerEncoderLayer on chain: the encoder (4 features, 2 attention heads,
// feed-forward 8, relu, post-norm) over 6 tokens, mean-pooled into a next and an up head (real PyTorch,
// scripts/heads_seq.py), exported to ONNX with output_names next, up. `ml2sc init model.onnx` then
// `ml2sc run` unedited on its own anvil: the chain equals the simulator on every row, each head is within the
// tolerance of PyTorch and named in report.json, predictions.csv, the contract and predict --json
// (helpers/headsRun.ts). The other formats read to the same model: test/heads/heads-seq-formats.test.ts.
//
// Issue 19, heads after an LSTM as a newcomer runs them: the LSTM(1, 8) next/up model (real PyTorch,
// scripts/heads_seq.py) as model.py + state_dict. `ml2sc init` names a label column per head (model.py's
// `return self.next(last), self.up(last)`) and the window [8, 1]; `ml2sc run` deploys it unedited on its own
// anvil: the chain equals the simulator on every row, each head is within the tolerance of PyTorch and named in
// report.json, predictions.csv, the contract and predict --json (helpers/headsRun.ts). The other formats read to
// the same model: test/heads/heads-seq-formats.test.ts.
import { describe, expect, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { FIXTURES } from '../helpers/paths.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { fixtureProject } from '../helpers/fixtureProject.ts'
import { initAndRunHeads } from '../helpers/headsRun.ts'

const G = path.join(FIXTURES, 'graph')
const lines = (f: string) => readFileSync(f, 'utf8').trim().split('\n')

const project = (name: string, files: string[]) => fixtureProject(path.join(G, name), files, `ml2sc-${name}-`)

describe('heads in a CNN and a GRU, as a newcomer runs them', () => {
  test('GRU with heads next and up: init names a label column per head, in the heads\' order', async () => {
    const dir = project('heads_gru_sine', ['model.onnx', 'test.csv', 'reference.csv'])
    const init = await runCliInProcess(['init', 'model.onnx', '--data', 'test.csv'], { cwd: dir })
    expect(init.code).toBe(0)
    const yaml = readFileSync(path.join(dir, 'ml2sc.yaml'), 'utf8')
    expect(yaml).toContain('label: [next, up]')
    expect(yaml).not.toContain('WARNING')
  })

  test('CNN from ONNX: init then run unedited; each head named and within the tolerance of PyTorch', async () => {
    const dir = project('heads_cnn_digits', ['model.onnx', 'test.csv', 'reference.csv'])
    const init = await runCliInProcess(['init', 'model.onnx', '--data', 'test.csv'], { cwd: dir })
    expect(init.code).toBe(0)
    const yaml = readFileSync(path.join(dir, 'ml2sc.yaml'), 'utf8')
    expect(yaml).toContain('label: [label, ink]')
    // a few rows keep the test small (precision: auto chooses on the first)
    writeFileSync(path.join(dir, 'ml2sc.yaml'), yaml.replace('  reference: reference.csv', '  reference: reference.csv\n  limit: 6'))
    const run = await runCliInProcess(['run', 'ml2sc.yaml'], { cwd: dir })
    expect(run.stderr).not.toContain('ml2sc: error')
    expect(run.code).toBe(0)
    expect(run.stdout + run.stderr).toContain('simulator mismatches 0')
    const report = JSON.parse(readFileSync(path.join(dir, 'out', 'report.json'), 'utf8'))
    expect(report.model.format).toBe('onnx')
    expect(report.simulator.mismatches).toBe(0)
    const [digit, ink] = report.heads
    expect(digit).toMatchObject({ name: 'digit', task: 'multiclass', offset: 0, size: 10, label: 'label', within: true, agreement: 1 })
    expect(ink).toMatchObject({ name: 'ink', task: 'regression', offset: 10, size: 1, label: 'ink', within: true, agreement: 1 })
    expect(ink.maxAbsError).toBeLessThan(report.fidelity.tolerances[10])
    expect(digit.maxAbsError).toBeLessThan(Math.min(...report.fidelity.tolerances.slice(0, 10)))
    // predictions.csv: <head>_label/_onchain/_reference per head; the ink head against PyTorch's own column
    const csv = lines(path.join(dir, 'out', 'predictions.csv'))
    expect(csv[0]).toBe('row,label,onchain,reference,digit_label,digit_onchain,digit_reference,ink_label,ink_onchain,ink_reference')
    const torch = lines(path.join(G, 'heads_cnn_digits', 'reference.csv')).slice(1).map((l) => l.split(',').map(Number))
    for (const l of csv.slice(1)) {
      const c = l.split(',')
      expect(Math.abs(Number(c[8]) - torch[Number(c[0])]![11]!)).toBeLessThan(report.fidelity.tolerances[10])
    }
    // predict --json: a prediction per head, on chain (eth_call) and off chain alike
    writeFileSync(path.join(dir, 'rows.csv'), lines(path.join(dir, 'test.csv')).slice(0, 3).join('\n') + '\n')
    const on = await runCliInProcess(['predict', 'ml2sc.yaml', '--input', 'rows.csv', '--json'], { cwd: dir })
    const off = await runCliInProcess(['predict', 'ml2sc.yaml', '--input', 'rows.csv', '--json', '--offchain'], { cwd: dir })
    expect(on.code).toBe(0)
    expect(JSON.parse(on.stdout)).toEqual(JSON.parse(off.stdout))
    const rows = JSON.parse(on.stdout).rows
    expect(rows).toHaveLength(2)
    for (const [i, r] of rows.entries()) {
      expect(Object.keys(r.heads)).toEqual(['digit', 'ink'])
      expect(r.heads.digit.raw).toEqual(r.raw.slice(0, 10))
      expect(r.heads.digit.prediction).toBe(torch[i]!.slice(1, 11).indexOf(Math.max(...torch[i]!.slice(1, 11))))
      expect(Math.abs(r.heads.ink.prediction - torch[i]![11]!)).toBeLessThan(report.fidelity.tolerances[10])
    }
  })
})

test('MultiheadAttention with heads next and up from ONNX: init, then run unedited', async () => {
  const { report } = await initAndRunHeads('heads_attn_sine', ['model.onnx'], 'model.onnx')
  expect(report.model.format).toBe('onnx')
  expect(report.gas.predictSingle).toBeGreaterThan(50_000)
  expect(report.gas.predictSingle).toBeLessThan(1_000_000)
  expect(report.error.maxAbs).toBeLessThan(1e-3)
})

test('TransformerEncoderLayer with heads next and up from ONNX: init, then run unedited', async () => {
  const { report } = await initAndRunHeads('heads_encoder_sine', ['model.onnx'], 'model.onnx')
  expect(report.model.format).toBe('onnx')
  expect(report.gas.predictSingle).toBeGreaterThan(50_000)
  expect(report.gas.predictSingle).toBeLessThan(2_000_000)
  expect(report.error.maxAbs).toBeLessThan(1e-3)
})

test('LSTM with heads next and up from model.py + state_dict: init, then run unedited', async () => {
  const { dir, report } = await initAndRunHeads('heads_lstm_sine', ['model.state_dict.pt', 'model.py'], 'model.state_dict.pt')
  expect(readFileSync(path.join(dir, 'ml2sc.yaml'), 'utf8')).toContain('inputShape: [8, 1]')
  expect(report.model.format).toBe('state_dict-pt')
  // 8 LSTM steps then the two heads: far more than a bare transaction, under the per-transaction cap
  expect(report.gas.predictSingle).toBeGreaterThan(50_000)
  expect(report.gas.predictSingle).toBeLessThan(1_000_000)
  expect(report.error.maxAbs).toBeLessThan(1e-4)
})

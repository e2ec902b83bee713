// Issue 20, self-attention on chain: the PyTorch-made attention fixtures (a 1-head forecaster with mean
// pooling, a 2-head classifier on the last token, a TransformerEncoderLayer classifier; scripts/make-attention-fixtures.py) give on chain exactly
// what the simulator gives on every test row, and PyTorch's outputs within the tolerance (and its class);
// examples/attention-sine runs end to end through `ml2sc run`, `verify` and `predict` (on chain = --offchain).
import { describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { readAllRows } from '../../src/data/readCsv.ts'
import { encodeRow } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { deployCnn } from '../helpers/deployCnn.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { FIXTURES, ROOT } from '../helpers/paths.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'

const SEQ = path.join(FIXTURES, 'seq')
const FIXT = [
  // tolerances at int16 weights: the forecaster's output is ~1, the classifier's logits reach ~10
  { name: 'attn_sine', label: 'next', cls: 'AttnForecaster', tol: 1e-4 },
  { name: 'attn2_cls', label: 'label', cls: 'AttnClassifier', tol: 2e-3 },
  // nn.TransformerEncoderLayer(8, 2, 16, batch_first=True) (post-norm, relu), mean over the tokens, Linear(8→3)
  { name: 'encoder_cls', label: 'label', cls: 'EncoderClassifier', tol: 2e-3 },
]
const torchOut = (dir: string) => readFileSync(path.join(dir, 'reference.csv'), 'utf8').trim().split('\n').map((l) => l.split(',').map(Number))

let s: ChainSession
fileChain((c) => (s = c))

describe('attention fixtures on chain', () => {
  for (const f of FIXT)
    test(`${f.name}: chain = simulator on every row, PyTorch within ${f.tol} (and PyTorch's class)`, async () => {
      const dir = path.join(SEQ, f.name)
      const model = await loadModel({ path: path.join(dir, 'state_dict.pt'), source: path.join(dir, 'model.py'), class: f.cls, inputShape: [16, 8] })
      const plan = makePlan(model, { fraction: 20, weightBytes: 2, inputBytes: 4 })
      const c = await deployCnn(s, plan, `Attn_${f.name}`)
      const data = await readAllRows(path.join(dir, 'test.csv'), { label: f.label })
      const rows = data.features.map((x) => (encodeRow(plan, x) as { values: bigint[] }).values)
      const torch = torchOut(dir)
      // the simulator's outputs, once per row: compared with the chain's, then read for PyTorch's class
      const sims = rows.map((r) => simulate(plan, r))
      let worst = 0
      for (let at = 0; at < rows.length; at += 8) {
        const { outputs } = await c.batch(rows.slice(at, at + 8))
        outputs.forEach((o, k) => {
          expect(o.map(String)).toEqual(sims[at + k]!.map(String))
          o.forEach((v, j) => (worst = Math.max(worst, Math.abs(Number(v) / 2 ** 20 - torch[at + k]![j]!))))
        })
      }
      const gas = await c.predictTxGas(rows[0]!)
      console.log(`${f.name}: max |chain − PyTorch| ${worst.toExponential(2)}; one predict ${gas.toLocaleString('en-US')} gas (${Math.round((gas - 21_000) / 16).toLocaleString('en-US')} per token above the base)`)
      expect(worst).toBeLessThan(f.tol)
      expect(worst).toBeGreaterThan(0)
      if (f.name !== 'encoder_cls') expect(gas).toBeLessThanOrEqual(600_000)
      if (torch[0]!.length > 1)
        for (let i = 0; i < rows.length; i++) {
          const o = sims[i]!.map(Number)
          expect(o.indexOf(Math.max(...o))).toBe(torch[i]!.indexOf(Math.max(...torch[i]!)))
        }
    }, 300_000)

  test('examples/attention-sine: `ml2sc run` end to end, PyTorch within 1e-4, ≤ 600k gas per predict; verify; predict on chain = off chain', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'ml2sc-attn-run-'))
    const cfg = 'examples/attention-sine/ml2sc.yaml'
    const r = await runCliInProcess(['run', cfg, '--out', out, '--quiet'], { cwd: ROOT })
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'))
    expect(report.simulator.mismatches).toBe(0)
    expect(report.error.maxAbs).toBeLessThan(1e-4)
    expect(report.gas.predictSingle).toBeLessThanOrEqual(600_000)
    expect(report.model.parameters).toBe(4 * 8 * 9 + 9)
    expect(report.model.attention).toEqual({ name: 'attn', tokens: 16, embed: 8, heads: 1, pool: 'mean' })
    expect(readFileSync(path.join(out, 'report.md'), 'utf8')).toContain('16×8 window → self-attention (1 head, mean pooling) → 128-1')
    const v = await runCliInProcess(['verify', cfg, '--out', out], { cwd: ROOT })
    expect(v.code, v.stderr).toBe(0)
    const input = path.join(ROOT, 'examples/attention-sine/test.csv')
    const on = await runCliInProcess(['predict', cfg, '--input', input, '--json', '--out', out], { cwd: ROOT })
    const off = await runCliInProcess(['predict', cfg, '--input', input, '--json', '--offchain', '--out', out], { cwd: ROOT })
    expect(on.code, on.stderr).toBe(0)
    expect(JSON.parse(on.stdout).rows.length).toBe(32)
    expect(on.stdout).toBe(off.stdout)
  }, 300_000)
})

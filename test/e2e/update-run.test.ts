// `ml2sc update` after `ml2sc run`, in-process: one file (one bun process and module load) for what were two,
// cnn-update and shared-module-update, each test as it was there.
//
// Updating a deployed CNN (ml2sc update): the new weights are quantised at the contract's conv scales and
// lanes, uploaded, and the contract then answers exactly as the simulator does with the new weights.
//
// The loop model (one nn.Linear applied three times) through the CLI, as a user runs it: `run` with model.py
// and a JSON state_dict on the data-contract layout (fc stored once, chain = simulator, PyTorch's parameter
// count), then `update` with retrained weights (every one times 0.9): version 2, the contract answers as the
// simulator does with the new weights, in all three uses.
import { expect, test } from 'bun:test'
import path from 'node:path'
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { ROOT } from '../helpers/paths.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { rng } from '../helpers/rng.ts'
import { writeSharedLoopModel } from '../helpers/sharedLoopModel.ts'

test('examples/digits-cnn: run, then update with weights scaled by 0.9: version 2, chain = simulator', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-cnn-update-'))
  cpSync(path.join(ROOT, 'examples/digits-cnn'), dir, { recursive: true })
  const config = path.join(dir, 'ml2sc.yaml')
  const run = await runCliInProcess(['run', config, '--quiet'])
  expect(run.code, run.stderr).toBe(0)
  // the same model as a JSON state_dict with every weight scaled by 0.9 (a retrained model)
  const weights = JSON.parse(readFileSync(path.join(ROOT, 'test/fixtures/cnn_digits8/weights.json'), 'utf8')) as Record<string, unknown>
  const scale = (v: unknown): unknown => (Array.isArray(v) ? v.map(scale) : typeof v === 'number' ? v * 0.9 : v)
  writeFileSync(path.join(dir, 'weights.json'), JSON.stringify(Object.fromEntries(Object.entries(weights).map(([k, v]) => [k, scale(v)]))))
  writeFileSync(config, readFileSync(config, 'utf8').replace('path: model.state_dict.pt', 'path: weights.json'))
  const up = await runCliInProcess(['update', config, '--json'])
  expect(up.code, up.stderr).toBe(0)
  expect(up.stdout).toContain('"version":2')
  const input = path.join(dir, 'test.csv')
  const on = await runCliInProcess(['predict', config, '--input', input, '--json'])
  const off = await runCliInProcess(['predict', config, '--input', input, '--json', '--offchain'])
  expect(on.code, on.stderr).toBe(0)
  expect(on.stdout).toBe(off.stdout)
  // the answers changed with the weights (raw outputs scale with them)
  const before = await runCliInProcess(['predict', path.join(ROOT, 'examples/digits-cnn/ml2sc.yaml'), '--input', input, '--json', '--offchain'])
  expect(JSON.parse(on.stdout).rows[0].raw).not.toEqual(JSON.parse(before.stdout).rows[0].raw)
}, 900_000)

test('run, then update, a model whose fc is applied three times: stored once, chain = simulator before and after', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-shared-update-'))
  const sd = writeSharedLoopModel(dir, 16)
  const r = rng(5)
  const rows = Array.from({ length: 30 }, () => [...Array.from({ length: 4 }, () => (r() * 4 - 2).toFixed(4)), String(Math.floor(r() * 2))].join(','))
  writeFileSync(path.join(dir, 'test.csv'), ['x0,x1,x2,x3,label', ...rows].join('\n') + '\n')
  const config = path.join(dir, 'ml2sc.yaml')
  writeFileSync(config, ['model:', '  path: weights.json', '  source: model.py', '  class: Net', 'data:', '  test: test.csv', '  label: label', 'weights:', '  layout: datacontract', ''].join('\n'))
  const run = await runCliInProcess(['run', config, '--quiet'])
  expect(run.code, run.stderr).toBe(0)
  const report = JSON.parse(readFileSync(path.join(dir, 'out', 'report.json'), 'utf8'))
  expect(report.simulator).toMatchObject({ rows: 30, mismatches: 0 })
  // 4·16+16 + 16·16+16 + 16·2+2: fc counted once, as PyTorch counts it
  expect(report.model.parameters).toBe(386)
  const plan = JSON.parse(readFileSync(path.join(dir, 'out', 'plan.json'), 'utf8')).plan
  expect(plan.layers.map((l: { shares?: number }) => l.shares ?? null)).toEqual([null, null, 1, 1, null])
  if (process.env.FUZZ_STATS) console.error(`deploy ${report.gas.deploy}, upload ${report.gas.upload}, one predict ${report.gas.predictSingle}`)
  const input = path.join(dir, 'test.csv')
  const before = await runCliInProcess(['predict', config, '--input', input, '--json', '--offchain'])
  // retrained weights: every weight and bias times 0.9 (fc's alike in its three uses)
  const scale = (v: unknown): unknown => (Array.isArray(v) ? v.map(scale) : typeof v === 'number' ? v * 0.9 : v)
  writeFileSync(path.join(dir, 'weights.json'), JSON.stringify(Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, scale(v)]))))
  const up = await runCliInProcess(['update', config, '--json'])
  expect(up.code, up.stderr).toBe(0)
  expect(up.stdout).toContain('"version":2')
  const on = await runCliInProcess(['predict', config, '--input', input, '--json'])
  const off = await runCliInProcess(['predict', config, '--input', input, '--json', '--offchain'])
  expect(on.code, on.stderr).toBe(0)
  expect(on.stdout).toBe(off.stdout)
  expect(JSON.parse(on.stdout).rows[0].raw).not.toEqual(JSON.parse(before.stdout).rows[0].raw)
}, 900_000)

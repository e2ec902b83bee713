// Updating a deployed CNN (ml2sc update): the new weights are quantised at the contract's conv scales and
// lanes, uploaded, and the contract then answers exactly as the simulator does with the new weights.
import { expect, test } from 'bun:test'
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ROOT } from '../helpers/paths.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'

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

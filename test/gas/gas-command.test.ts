// `ml2sc gas`: an estimate from the fitted model, no chain; impossible batch sizes get one clear line.
import { expect, test } from 'bun:test'
import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ROOT, runCli } from '../helpers/paths.ts'

test('ml2sc gas --json estimates every step and the batch that fits the cap', async () => {
  const r = await runCli(['gas', 'examples/breast-cancer/ml2sc.yaml', '--json'])
  expect(r.code).toBe(0)
  const est = JSON.parse(r.stdout)
  expect(est.parameters).toBe(257)
  expect(est.embedded).toBe(true)
  expect(est.upload).toBe(0)
  expect(est.deploy).toBeGreaterThan(300_000)
  expect(est.predictSingle).toBeGreaterThan(21_000)
  expect(est.batchTx).toBeLessThanOrEqual(16_777_216 * 0.9)
  expect(est.batchRows).toBeGreaterThan(100)
})

test('a batch.rows that cannot fit under the per-transaction cap is refused before any chain', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-gas-'))
  for (const f of ['model.onnx', 'test.csv']) copyFileSync(path.join(ROOT, 'examples/breast-cancer', f), path.join(dir, f))
  writeFileSync(path.join(dir, 'ml2sc.yaml'), 'model:\n  path: model.onnx\ndata:\n  test: test.csv\nbatch:\n  rows: 100000\n')
  const r = await runCli(['gas', path.join(dir, 'ml2sc.yaml')])
  expect(r.code).not.toBe(0)
  expect(r.stderr).toMatch(/ml2sc: error: batch\.rows: a batch of 100000 rows (needs about [\d,]+ gas, over the cap|is [\d,]+ bytes of calldata, over)/)
})

// `ml2sc gas`: the figures of run's own transactions on a private anvil; batch sizes that run would refuse
// (or that cannot fit the cap) get one clear line, the same check run makes.
import { expect, test } from 'bun:test'
import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { FIXTURES, ROOT } from '../helpers/paths.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { randomProject } from '../chain/helpers.ts'

test('ml2sc gas --json estimates every step and the batch that fits the cap', async () => {
  const r = await runCliInProcess(['gas', 'examples/breast-cancer/ml2sc.yaml', '--json'])
  expect(r.code).toBe(0)
  const est = JSON.parse(r.stdout)
  expect(est.parameters).toBe(257)
  expect(est.embedded).toBe(true)
  expect(est.upload).toBe(0)
  expect(est.deploy).toBeGreaterThan(300_000)
  expect(est.predictSingle).toBeGreaterThan(21_000)
  // predict from another contract: no 21,000 base, no calldata, a cold account access; the client's conversion on top
  expect(est.predictInternal).toBeGreaterThan(2_600)
  expect(est.predictInternal).toBeLessThan(est.predictSingle - 21_000 + 2_600)
  expect(est.predictInternalClient).toBeGreaterThan(est.predictInternal)
  expect(est.clientPerFeature).toBeLessThanOrEqual(150)
  expect(est.update).toBeGreaterThan(0)
  expect(est.batchTx).toBeLessThanOrEqual(16_777_216 * 0.9)
  expect(est.batchRows).toBeGreaterThan(100)
  expect(est.measuredRows).toBe(50) // the example's test set: run's one batch
  expect(est.perRow).toBe(Math.round(est.batchTx / est.measuredRows))
})

test('a batch.rows over the calldata limit is refused as run refuses it, before any chain', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-gas-'))
  for (const f of ['model.onnx', 'test.csv']) copyFileSync(path.join(ROOT, 'examples/breast-cancer', f), path.join(dir, f))
  writeFileSync(path.join(dir, 'ml2sc.yaml'), 'model:\n  path: model.onnx\ndata:\n  test: test.csv\nbatch:\n  rows: 100000\n')
  const r = await runCliInProcess(['gas', path.join(dir, 'ml2sc.yaml')])
  expect(r.code).not.toBe(0)
  expect(r.stderr).toMatch(/ml2sc: error: batch\.rows: batch\.rows 100000 makes [\d,]+ bytes of calldata per transaction, over the 96,000/)
})

test('a batch.rows within the calldata limit but over the gas cap is refused with its gas', { timeout: 900_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-gas-'))
  writeFileSync(path.join(dir, 'ml2sc.yaml'), `model:\n  path: ${path.join(FIXTURES, 'digits_bn/model.onnx')}\ndata:\n  test: ${path.join(FIXTURES, 'digits_bn/test.csv')}\n  label: label\nbatch:\n  rows: 100\n`)
  // the test set has fewer rows than that, and run would send them all in one transaction: fine
  const ok = await runCliInProcess(['gas', path.join(dir, 'ml2sc.yaml'), '--json'])
  expect(ok.code).toBe(0)
  expect(JSON.parse(ok.stdout).batchRows).toBe(100)
  // with as many rows as the batch (no test data: random rows), 200 rows of the 8×8 digits CNN do not fit the cap
  // (12,800 bytes of calldata: within the limit). The 8×8 CNN, not the 28×28 MNIST one: precision auto on random
  // rows simulates the model on 256 rows per width tried, about 8 CPU s for MNIST, not the point here
  writeFileSync(path.join(dir, 'nodata.yaml'), `model:\n  path: ${path.join(FIXTURES, 'cnn_digits8/model.onnx')}\nbatch:\n  rows: 200\n`)
  const r = await runCliInProcess(['gas', path.join(dir, 'nodata.yaml')])
  expect(r.code).not.toBe(0)
  expect(r.stderr).toMatch(/ml2sc: error: batch\.rows: (a batch of 200 rows needs about [\d,]+ gas, over the cap|batch\.rows 200 needs about [\d,]+ gas per evaluation transaction, over the per-transaction cap) of 16,777,216/)
})

test('gas refuses exactly the explicit batch sizes run refuses before deploying, with the same line', async () => {
  const p = randomProject({ sizes: [64, 128, 10], rows: 4, seed: 9, yaml: 'batch:\n  rows: 300\n' })
  const [g, r] = [await runCliInProcess(['gas', p.config]), await runCliInProcess(['run', p.config])]
  const line = /ml2sc: error: batch\.rows: batch\.rows 300 needs about [\d,]+ gas per evaluation transaction, over the per-transaction cap of 16,777,216/
  expect(g.code).not.toBe(0)
  expect(r.code).not.toBe(0)
  expect(g.stderr).toMatch(line)
  expect(r.stderr).toMatch(line)
  // a size run sends, gas accepts and measures
  const ok = randomProject({ sizes: [64, 128, 10], rows: 4, seed: 9, yaml: 'batch:\n  rows: 30\n' })
  const est = await runCliInProcess(['gas', ok.config, '--json'])
  expect(est.code).toBe(0)
  expect(JSON.parse(est.stdout)).toMatchObject({ batchRows: 30, measuredRows: 4 })
}, 900_000)

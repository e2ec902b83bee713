// Load: 10,000 rows on ML2SC's 30-4-1 model, end to end on anvil, every answer equal to the bit-exact
// simulator (and to the float reference's class). Throughput is measured by bench/load.ts, not asserted here.
import { expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { loadProject, streaming } from '../../bench/load.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'

test('10,000 rows through `ml2sc run` on the 30-4-1 model: all answered, simulator and chain agree', async () => {
  const p = loadProject(10_000)
  // src/cli.ts in this process (the test is about the rows, not the process: no bun start-up, no second load of every module)
  const r = await runCliInProcess(['run', p.config, '--out', p.out])
  expect(r.stderr).not.toContain('ml2sc: error')
  expect(r.code).toBe(0)
  const report = JSON.parse(readFileSync(path.join(p.out, 'report.json'), 'utf8'))
  expect(report.rows.total).toBe(10_000)
  expect(report.rows.answered).toBe(10_000)
  expect(report.simulator.rows).toBe(10_000)
  expect(report.simulator.mismatches).toBe(0)
  // a random model has no PyTorch outputs: agreement here is with ml2sc's own float pass, and the report says so
  expect(report.reference.source).toBe('ml2sc-float')
  expect(report.accuracy.agreement).toBe(1)
  expect(report.gas.inference.rows).toBe(10_000)
  expect(report.gas.inference.transactions).toBeGreaterThan(1) // streamed in several batches
  expect(report.gas.inference.transactions).toBeLessThan(40)
  const predictions = readFileSync(path.join(p.out, 'predictions.csv'), 'utf8').trim().split('\n')
  expect(predictions.length).toBe(10_001)
  // the rows repeat ML2SC's 569: row i and row i + 569 get the same answer
  const onchain = predictions.slice(1).map((l) => l.split(',')[2])
  for (let i = 0; i + 569 < onchain.length; i += 97) expect(onchain[i + 569]).toBe(onchain[i])
}, 900_000)

test('streamed evaluation keeps memory flat: the heap after the last of several batches (7: 2-byte inputs, 1,600 rows each) is that after the first', async () => {
  const r = await streaming(10_000)
  expect(r.rows).toBe(10_000)
  expect(r.batches).toBeGreaterThan(5)
  expect(r.simulatorMismatches).toBe(0)
  expect(r.heapMB.afterLastBatch - r.heapMB.afterFirstBatch).toBeLessThan(16)
}, 900_000)

// The simulator's throughput for bench/speed.ts: rows per second of CPU (user + sys of this process, so a
// busy machine slows the figure less than wall time would) for the batched simulator (simulateBatch) and
// simulate() row by row, on the 784-128-10 MLP of speedProject.ts (its precision as `run` chooses it)
// and on the MNIST-shaped CNN fixture (test/fixtures/cnn_mnist28, int16 weights, int32 inputs).
import path from 'node:path'
import { loadConfig } from '../src/config/loadConfig.ts'
import { readAllRows } from '../src/data/readCsv.ts'
import { encodeRow } from '../src/fixed/encodeRows.ts'
import { makePlan } from '../src/fixed/makePlan.ts'
import { simulate } from '../src/fixed/simulate.ts'
import { simulateBatch } from '../src/fixed/simulateBatch.ts'
import type { Plan } from '../src/fixed/types.ts'
import { loadModel } from '../src/model/loadModel.ts'
import { prepareModel } from '../src/pipeline/prepareModel.ts'

const cpuSeconds = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}

/** Rows per CPU second of `run(rows)`, repeated for at least `seconds` of CPU. */
function rate(rows: bigint[][], run: (rows: bigint[][]) => unknown, seconds = 3): number {
  run(rows.slice(0, 8)) // warm the caches and the JIT
  const t0 = cpuSeconds()
  let n = 0
  while (cpuSeconds() - t0 < seconds) {
    run(rows)
    n += rows.length
  }
  return n / (cpuSeconds() - t0)
}

async function encoded(plan: Plan, csv: string, label: string): Promise<bigint[][]> {
  const { features } = await readAllRows(csv, { label })
  return features.map((f) => encodeRow(plan, f)).flatMap((e) => (e.ok ? [e.values] : []))
}

export type SimSpeed = { batch: number; perRow: number; rows: number }

export async function simulatorSpeed(mlpConfig: string): Promise<{ mlp: SimSpeed; cnn: SimSpeed }> {
  const prep = await prepareModel(await loadConfig(mlpConfig, {}))
  const mlpRows = await encoded(prep.plan, path.join(path.dirname(mlpConfig), 'test.csv'), 'label')
  const cnnDir = path.join(import.meta.dir, '..', 'test/fixtures/cnn_mnist28')
  const cnnPlan = makePlan(await loadModel({ path: path.join(cnnDir, 'model.onnx') }), { fraction: 20, weightBytes: 2, inputBytes: 4 })
  const cnnRows = await encoded(cnnPlan, path.join(cnnDir, 'test.csv'), 'label')
  const of = (plan: Plan, rows: bigint[][]): SimSpeed => ({
    batch: rate(rows, (r) => simulateBatch(plan, r)),
    perRow: rate(rows, (r) => r.forEach((x) => simulate(plan, x))),
    rows: rows.length,
  })
  return { mlp: of(prep.plan, mlpRows), cnn: of(cnnPlan, cnnRows) }
}

// Load benchmark: 10,000 rows on ML2SC's 30-4-1 model (MLP_2L4), on anvil.
//
//   node_modules/.bin/bun bench/load.ts [rows]        → bench/load.json
//
// 1. end to end: `bin/ml2sc run` as a user runs it (compile, anvil, deploy, evaluate, report), timed; the
//    evaluate stage's own rate is read from its progress line;
// 2. in process, streaming: evaluateRows with keepRows: false over the same CSV, every answer checked
//    against the bit-exact simulator as it arrives, the heap sampled after each batch to show that memory
//    stays flat (the CSV is streamed; only one batch is in flight);
// 3. the same at 5× the rows, to compare the heap at the end of both.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import path from 'node:path'
import { connectChain } from '../src/chain/connectChain.ts'
import { deployModel } from '../src/chain/deployModel.ts'
import { uploadWeights } from '../src/chain/uploadWeights.ts'
import { embedsWeights, generateSolidity } from '../src/codegen/generateSolidity.ts'
import { encodeWeights } from '../src/codegen/weights/weightBlob.ts'
import { compileSolidity } from '../src/compile/compileSolidity.ts'
import { loadConfig } from '../src/config/loadConfig.ts'
import { simulate } from '../src/fixed/simulate.ts'
import { evaluateRows } from '../src/pipeline/evaluateRows.ts'
import { prepareModel } from '../src/pipeline/prepareModel.ts'
import { createLogger } from '../src/ui/logger.ts'

const ROOT = path.resolve(import.meta.dir, '..')
const ANCHORS = path.join(ROOT, 'test/fixtures/ml2sc')
const ROWS = Number(process.argv[2] ?? 10_000)

/** A project: MLP_2L4 and `rows` rows of ML2SC's processed breast-cancer data, repeated. */
export function loadProject(rows: number, dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-load-'))) {
  const lines = readFileSync(path.join(ANCHORS, 'processed_data.csv'), 'utf8').trim().split('\n')
  const [head, ...data] = lines
  const out = [head!]
  for (let i = 0; i < rows; i++) out.push(data[i % data.length]!)
  writeFileSync(path.join(dir, 'data.csv'), out.join('\n') + '\n')
  writeFileSync(
    path.join(dir, 'ml2sc.yaml'),
    `model:\n  path: ${path.join(ANCHORS, 'weights/MLP_2L4.json')}\n  source: ${path.join(ANCHORS, 'models.py')}\n  class: MLP_2L4\ndata:\n  test: data.csv\n  label: diagnosis\n  drop: [id]\n`,
  )
  return { dir, config: path.join(dir, 'ml2sc.yaml'), out: path.join(dir, 'out') }
}

const mb = (b: number) => Math.round((b / 2 ** 20) * 10) / 10

async function endToEnd(rows: number) {
  const p = loadProject(rows)
  const t0 = performance.now()
  const proc = Bun.spawn([path.join(ROOT, 'bin/ml2sc'), 'run', p.config, '--out', p.out], { stdout: 'pipe', stderr: 'pipe', env: { ...process.env, CI: '1' } })
  const [stderr] = await Promise.all([new Response(proc.stderr).text(), new Response(proc.stdout).text()])
  const code = await proc.exited
  const seconds = (performance.now() - t0) / 1000
  if (code !== 0) throw new Error(`ml2sc run failed:\n${stderr}`)
  const report = JSON.parse(readFileSync(path.join(p.out, 'report.json'), 'utf8'))
  const rates = [...stderr.matchAll(/evaluate \[.*\] (\d+)\/(\d+)\s+([\d,.]+) rows\/s/g)]
  return {
    rows: report.rows.answered,
    seconds: Math.round(seconds * 100) / 100,
    rowsPerSecondEndToEnd: Math.round(rows / seconds),
    rowsPerSecondEvaluateStage: Number((rates.at(-1)?.[3] ?? '0').replace(/,/g, '')),
    gasPerRow: report.gas.inference.perRow,
    transactions: report.gas.inference.transactions,
    batchRows: report.gas.inference.batchRows,
    agreement: report.accuracy.agreement,
    simulatorMismatches: report.simulator.mismatches,
  }
}

export async function streaming(rows: number) {
  const p = loadProject(rows)
  const config = await loadConfig(p.config)
  const prep = await prepareModel(config)
  const compiled = compileSolidity(generateSolidity(prep.plan, prep.generate), prep.contractName)
  const s = await connectChain(config.chain)
  try {
    const { address } = await deployModel(s, compiled.bytecode, compiled.abi)
    const blob = encodeWeights(prep.plan)
    if (!embedsWeights(prep.plan, prep.generate)) await uploadWeights(s, address, compiled.abi, blob, [blob.length])
    const heap: number[] = []
    let mismatches = 0
    let answered = 0
    Bun.gc(true)
    const heap0 = process.memoryUsage().heapUsed
    const t0 = performance.now()
    const ev = await evaluateRows(s, address, compiled.abi, prep.plan, config, createLogger({ quiet: true }), {
      keepRows: false,
      onBatch: (batch) => {
        for (const r of batch) {
          if (!r.raw) continue
          answered++
          const sim = simulate(prep.plan, r.input!)
          if (sim.some((v, j) => v !== r.raw![j])) mismatches++
        }
        Bun.gc(true)
        heap.push(process.memoryUsage().heapUsed)
      },
    })
    const seconds = (performance.now() - t0) / 1000
    return {
      rows: answered,
      seconds: Math.round(seconds * 100) / 100,
      rowsPerSecond: Math.round(answered / seconds),
      batches: ev.txs.length,
      simulatorMismatches: mismatches,
      heapMB: { before: mb(heap0), afterFirstBatch: mb(heap[0] ?? 0), afterLastBatch: mb(heap.at(-1) ?? 0), max: mb(Math.max(...heap)) },
      rssMB: mb(process.memoryUsage().rss),
    }
  } finally {
    await s.close()
  }
}

if (import.meta.main) {
  const e2e = await endToEnd(ROWS)
  console.error(`end to end: ${e2e.rows} rows in ${e2e.seconds} s (${e2e.rowsPerSecondEndToEnd} rows/s all in; evaluate stage ${e2e.rowsPerSecondEvaluateStage} rows/s)`)
  const stream = await streaming(ROWS)
  console.error(`streaming: ${stream.rows} rows, ${stream.rowsPerSecond} rows/s, heap ${stream.heapMB.afterFirstBatch} → ${stream.heapMB.afterLastBatch} MB`)
  const big = await streaming(ROWS * 5)
  console.error(`streaming ×5: ${big.rows} rows, ${big.rowsPerSecond} rows/s, heap ${big.heapMB.afterFirstBatch} → ${big.heapMB.afterLastBatch} MB`)
  const result = {
    benchmark: 'load: 30-4-1 (ML2SC MLP_2L4) on anvil',
    createdAt: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, bun: Bun.version },
    target: { rowsPerSecond: 1000 },
    endToEnd: e2e,
    streaming: stream,
    streaming5x: big,
  }
  writeFileSync(path.join(ROOT, 'bench/load.json'), JSON.stringify(result, null, 2) + '\n')
  console.error('wrote bench/load.json')
}

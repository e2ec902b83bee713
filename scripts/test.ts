// `npm test`: every test file in its own `bun test` process, a few at a time (the files share no state:
// each starts its own anvil on a free port and writes to its own temporary folders), so a 2-core machine
// runs the chain-bound files side by side; the light files that reach nothing beyond themselves run about
// a dozen per process instead (scripts/test-batches.ts says which; ML2SC_TEST_BATCH=0 runs each alone).
// Each process's output is printed whole when it ends (no interleaving), a batch's headed by each file's
// counts and failing tests, then the totals as bun writes them (` N pass`, ` N fail`), which .ci/run reads
// (its last such lines). Exits non-zero on any failure, a crashed file or batch included.
//
// The files start longest first, by the wall seconds each held its slot when last measured
// (scripts/test-walls.json), else by the CPU seconds it took (scripts/test-costs.json) times the usual wall per
// CPU second, so that the long ones (and the ones that mostly wait on a node) never start last and the light
// ones fill the gaps; a file in neither table is guessed from its folder. The files that mostly wait (on
// 3-second blocks, on an RPC's injected timeouts: wall far above CPU, scripts/test-batches.ts) run one after
// another in one more lane, so that their waiting never holds a batch or leaves a core idle. The files of one run share a
// solc cache (ML2SC_COMPILE_CACHE, a temporary folder removed at the end): a contract compiled once, by any
// file or CLI process, is read back by the others instead of loading solc-js again.
//
//   bun scripts/test.ts [path filters…]      ML2SC_TEST_JOBS=N to change the parallelism (default: the cores, + the waiting lane)
//   ML2SC_TEST_COSTS=write                   rewrite scripts/test-costs.json (CPU s) and test-walls.json (wall s)
//   ML2SC_PROFILE=<folder>                   record where each file's CPU goes (scripts/test-profile.ts)
import { Glob } from 'bun'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import path from 'node:path'
import { batchable, batches, mostlyWaiting, splitByFile } from './test-batches.ts'

const ROOT = path.resolve(import.meta.dir, '..')
/** Per-test timeout handed to bun: 15 minutes, about 5× the slowest test seen on a busy 2-core machine. */
const TIMEOUT_MS = 900_000
const COSTS = path.join(ROOT, 'scripts/test-costs.json')
const WALLS = path.join(ROOT, 'scripts/test-walls.json')
/** Files not in the costs table yet: the ones that start nodes and run whole pipelines are guessed heavier. */
const HEAVY = /^test\/(chain|e2e|corpus|report|gas|codegen)\//
const guess = (f: string) => (HEAVY.test(f) ? 40 : 10)

const filters = process.argv.slice(2)
const all = [...new Glob('test/**/*.test.ts').scanSync({ cwd: ROOT })].sort()
const files = filters.length ? all.filter((f) => filters.some((p) => f.includes(p.replace(/^\.\//, '')))) : all
const readTable = (file: string): Record<string, number> => {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>
  } catch {
    return {}
  }
}
const costs = readTable(COSTS)
const walls = readTable(WALLS)
const cost = (f: string) => costs[f] ?? guess(f)
// the light files run several per process (scripts/test-batches.ts; ML2SC_TEST_BATCH=0 runs each alone);
// a batch takes its place in the heaviest-first order by its files' summed cost
// the files that mostly wait run one after another in a lane of their own, beside the `jobs` lanes
const waiting = process.env.ML2SC_TEST_BATCH === '0' ? new Set<string>() : mostlyWaiting(files, costs, walls)
const light = process.env.ML2SC_TEST_BATCH === '0' ? new Set<string>() : batchable(ROOT, files, costs, waiting)
const units: string[][] = [...files.filter((f) => !light.has(f) && !waiting.has(f)).map((f) => [f]), ...batches([...light], cost)]
const unitCost = (u: string[]) => u.reduce((a, f) => a + cost(f), 0)
// Longest first, by the wall seconds a file held its slot when last measured (scripts/test-walls.json, written
// beside the costs): a file that mostly waits (on anvil, on a node's timeouts) holds a slot long for little
// CPU, so it must start early or it ends the run alone; the other processes fill the cores meanwhile. A
// batch, or a file with no wall measured, is placed by its CPU cost times the table's median wall per CPU s.
const ratios = Object.keys(walls).filter((f) => costs[f]! >= 1).map((f) => walls[f]! / costs[f]!).sort((a, b) => a - b)
const wallPerCpu = ratios.length ? ratios[ratios.length >> 1]! : 1
const slotSeconds = (u: string[]) => (u.length === 1 && walls[u[0]!] !== undefined ? walls[u[0]!]! : unitCost(u) * wallPerCpu)
const queue = units.sort((a, b) => slotSeconds(b) - slotSeconds(a))
const waitQueue = [...waiting].map((f) => [f]).sort((a, b) => slotSeconds(b) - slotSeconds(a))
// one lane per core, beside the waiting lane: a third CPU-bound lane on 2 cores cost more CPU (contention:
// 413 against 374 CPU s) and more time (211 against 197 s) than the waiting it covered
const jobs = Math.max(1, Number(process.env.ML2SC_TEST_JOBS ?? availableParallelism()))
// ML2SC_COMPILE_CACHE= (empty) runs without the shared cache
const ownCache = process.env.ML2SC_COMPILE_CACHE === undefined
const cacheDir = ownCache ? mkdtempSync(path.join(tmpdir(), 'ml2sc-test-solc-')) : process.env.ML2SC_COMPILE_CACHE!
const env: Record<string, string | undefined> = { ...process.env, ML2SC_COMPILE_CACHE: cacheDir }
// bun's allocator (mimalloc) hands freed memory back to the kernel from a thread of its own; a test process
// lives seconds, so that only cost system time (about a tenth of the run's CPU: 5 s of 50 on test/fuzz and
// test/fixed). Never purging keeps the JS heap as it is (a test that measures memory reads heapUsed)
env.MIMALLOC_PURGE_DELAY ??= '-1'
// ML2SC_PROFILE=<folder>: every bun process of the run (test files and the CLI processes they start) writes
// where its CPU went (test/helpers/profile.ts); `bun scripts/test-profile.ts <folder>` sums it per file
const PROFILE_PRELOAD = process.env.ML2SC_PROFILE ? ['--preload', path.join(ROOT, 'test/helpers/profile.ts')] : []
if (process.env.ML2SC_PROFILE) mkdirSync(process.env.ML2SC_PROFILE, { recursive: true })
// never a runner inside a runner (a child bun given options before `test` runs package.json's "test" script)
if (process.env.ML2SC_TEST_RUNNER) {
  process.stderr.write('scripts/test.ts: started from inside a test run; refusing to start another\n')
  process.exit(2)
}
env.ML2SC_TEST_RUNNER = '1'
// one long-lived solc-js per core (scripts/solc-server.mjs) compiles for every process of the run, so that
// no test file or CLI process loads solc-js itself (about 2.5 s of CPU each); ML2SC_COMPILE_SERVER= (empty)
// runs without them. Their CPU is counted in the run's total below. They run under node when it is on PATH
// (it compiles solc-js's WebAssembly about a quarter faster than bun; npm brings it), else under this bun.
const servers: ReturnType<typeof Bun.spawn>[] = []
const serverRuntime = Bun.which('node') ?? process.execPath
const ownServer = process.env.ML2SC_COMPILE_SERVER === undefined
const serverDir = ownServer ? mkdtempSync(path.join(tmpdir(), 'ml2sc-test-solcd-')) : undefined
if (serverDir) {
  for (let i = 0; i < Math.min(availableParallelism(), files.length); i++)
    servers.push(Bun.spawn([serverRuntime, path.join(ROOT, 'scripts/solc-server.mjs'), serverDir], { cwd: ROOT, stdout: 'inherit', stderr: 'inherit', env: { ...process.env, BUN_OPTIONS: undefined } }))
  writeFileSync(path.join(serverDir, 'servers'), servers.map((p) => p.pid).join('\n'))
  env.ML2SC_COMPILE_SERVER = serverDir
}

const runStart = performance.now()
type Outcome = { files: string[]; pass: number; fail: number; skip: number; code: number; seconds: number; cpu: number; failed: string[] }
const count = (text: string, word: string) => Number(/^ *(\d+) /.exec(text.match(new RegExp(`^ *\\d+ ${word}$`, 'm'))?.[0] ?? '')?.[1] ?? 0)

/** One `bun test` process for one file, or for a batch of light ones (scripts/test-batches.ts). */
async function runFiles(batch: string[]): Promise<Outcome> {
  const t0 = performance.now()
  const proc = Bun.spawn([process.execPath, 'test', ...PROFILE_PRELOAD, ...batch.map((f) => `./${f}`), '--timeout', String(TIMEOUT_MS)], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe', env })
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()])
  const code = await proc.exited
  const seconds = (performance.now() - t0) / 1000
  // user + system CPU of the process and everything it waited for (CLI runs, anvil)
  const cpu = Number(proc.resourceUsage()?.cpuTime.total ?? 0n) / 1e6
  const text = out + err
  const o: Outcome = { files: batch, pass: count(text, 'pass'), fail: count(text, 'fail') + count(text, 'error'), skip: count(text, 'skip'), code, seconds, cpu, failed: [] }
  // an error between tests counts as a failure (bun writes it as ` N error`); a process that failed without
  // counting either (it crashed, or a hook threw) counts as one
  if (code !== 0 && o.fail === 0) o.fail = 1
  // and when it ended, in seconds from the run's start (where a run's tail comes from)
  const timing = `${seconds.toFixed(1)} s · CPU ${cpu.toFixed(1)} s · ended at ${((performance.now() - runStart) / 1000).toFixed(0)} s`
  if (batch.length === 1) {
    if (o.fail > 0) o.failed = [batch[0]!]
    process.stdout.write(`\n── ${batch[0]} · ${o.pass} pass, ${o.fail} fail · ${timing} ──\n${out}${err.trimEnd()}\n`)
    return o
  }
  // a batch: each file's own counts from bun's per-file listing; a failure bun counted outside any file
  // (an error between tests, a crash, a file that never started) names the files it could have been in
  const per = splitByFile(batch, err)
  const lines = batch.map((f) => {
    const c = per.get(f)!
    return `   ${f} · ${c.seen ? `${c.pass} pass, ${c.fail} fail${c.skip ? `, ${c.skip} skip` : ''}` : 'NOT RUN'}${c.failed.map((t) => `\n     (fail) ${t}`).join('')}`
  })
  const counts = [...per.values()]
  // a process that died wrote no totals: count what it listed
  if (!/^ *\d+ pass$/m.test(text)) {
    o.pass = counts.reduce((a, c) => a + c.pass, 0)
    o.skip = counts.reduce((a, c) => a + c.skip, 0)
  }
  o.failed = batch.filter((f) => per.get(f)!.fail > 0)
  // a failure outside any listed test (a crash, a hook that threw): the file running when it happened (the
  // last one listed), and every file that never started
  const unplaced = o.fail - counts.reduce((a, c) => a + c.fail, 0)
  const last = batch.filter((f) => per.get(f)!.seen).at(-1)
  if (unplaced > 0) o.failed.push(...batch.filter((f) => !o.failed.includes(f) && (f === last || !per.get(f)!.seen)).map((f) => `${f} (${per.get(f)!.seen ? 'running when its batch failed' : 'never ran: its batch failed'})`))
  const status = code !== 0 && unplaced > 0 ? ` · exit ${proc.signalCode ?? code}` : ''
  process.stdout.write(`\n── batch of ${batch.length} light files · ${o.pass} pass, ${o.fail} fail${status} · ${timing} ──\n${lines.join('\n')}\n${out}${err.trimEnd()}\n`)
  return o
}

const outcomes: Outcome[] = []
try {
  await Promise.all([
    ...Array.from({ length: Math.min(jobs, queue.length) }, async () => {
      for (let b = queue.shift() ?? waitQueue.shift(); b; b = queue.shift() ?? waitQueue.shift()) outcomes.push(await runFiles(b))
    }),
    // the waiting lane; the other lanes take from it too once their own queue is empty
    (async () => {
      for (let b = waitQueue.shift(); b; b = waitQueue.shift()) outcomes.push(await runFiles(b))
    })(),
  ])
} finally {
  if (ownCache) rmSync(cacheDir, { recursive: true, force: true })
  for (const p of servers) p.kill()
  await Promise.all(servers.map((p) => p.exited))
  if (serverDir) rmSync(serverDir, { recursive: true, force: true })
}
const serverCpu = servers.reduce((a, p) => a + Number(p.resourceUsage()?.cpuTime.total ?? 0n) / 1e6, 0)
if (process.env.ML2SC_TEST_COSTS === 'write') {
  const next = { ...costs, ...Object.fromEntries(outcomes.filter((o) => o.files.length === 1).map((o) => [o.files[0]!, Math.round(o.cpu)])) }
  const sorted = Object.fromEntries(Object.entries(next).filter(([f]) => all.includes(f)).sort(([, a], [, b]) => b - a))
  writeFileSync(COSTS, `${JSON.stringify(sorted, null, 1)}\n`)
  const nextWalls = { ...walls, ...Object.fromEntries(outcomes.filter((o) => o.files.length === 1).map((o) => [o.files[0]!, Math.round(o.seconds)])) }
  writeFileSync(WALLS, `${JSON.stringify(Object.fromEntries(Object.entries(nextWalls).filter(([f]) => all.includes(f)).sort(([, a], [, b]) => b - a)), null, 1)}\n`)
}
const sum = (k: 'pass' | 'fail' | 'skip') => outcomes.reduce((a, o) => a + o[k], 0)
const cpu = outcomes.reduce((a, o) => a + o.cpu, 0) + serverCpu
const failed = outcomes.flatMap((o) => o.failed)
const nFiles = outcomes.reduce((a, o) => a + o.files.length, 0)
const nBatches = outcomes.filter((o) => o.files.length > 1).length
process.stdout.write(`\n${nFiles} files in ${outcomes.length} processes (${nBatches} of them batches of light files), ${jobs} at a time${waiting.size ? ' beside a lane for the files that mostly wait' : ''}, ${((performance.now() - runStart) / 1000).toFixed(0)} s, CPU ${cpu.toFixed(0)} s${servers.length ? ` (${serverCpu.toFixed(0)} s of it in ${servers.length} solc servers)` : ''}${failed.length ? `; failed: ${failed.join(', ')}` : ''}\n`)
process.stdout.write(` ${sum('skip')} skip\n ${sum('pass')} pass\n ${sum('fail')} fail\n`)
process.exit(files.length === 0 || sum('fail') > 0 ? 1 : 0)

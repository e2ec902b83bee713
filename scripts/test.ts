// `npm test`: every test file in its own `bun test` process, a few at a time (the files share no state:
// each starts its own anvil on a free port and writes to its own temporary folders), so a 2-core machine
// runs the chain-bound files side by side. Each file's output is printed whole when it ends (no
// interleaving), then the totals as bun writes them (` N pass`, ` N fail`), which .ci/run reads (its last
// such lines). Exits non-zero on any failure, a crashed file included.
//
// The files start heaviest first, by the CPU seconds each took when last measured (scripts/test-costs.json:
// measured per file where a run wrote it, else the idle CI's wall seconds × 2/3), so that the long ones never
// start last and the light ones fill the gaps; a file not in the table yet is guessed from its folder. The files of one run share a
// solc cache (ML2SC_COMPILE_CACHE, a temporary folder removed at the end): a contract compiled once, by any
// file or CLI process, is read back by the others instead of loading solc-js again.
//
//   bun scripts/test.ts [path filters…]      ML2SC_TEST_JOBS=N to change the parallelism (default: cores + 1)
//   ML2SC_TEST_COSTS=write                   rewrite scripts/test-costs.json with this run's CPU seconds
//   ML2SC_PROFILE=<folder>                   record where each file's CPU goes (scripts/test-profile.ts)
import { Glob } from 'bun'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import path from 'node:path'

const ROOT = path.resolve(import.meta.dir, '..')
/** Per-test timeout handed to bun: 15 minutes, about 5× the slowest test seen on a busy 2-core machine. */
const TIMEOUT_MS = 900_000
const COSTS = path.join(ROOT, 'scripts/test-costs.json')
/** Files not in the costs table yet: the ones that start nodes and run whole pipelines are guessed heavier. */
const HEAVY = /^test\/(chain|e2e|corpus|report|gas|codegen)\//
const guess = (f: string) => (HEAVY.test(f) ? 40 : 10)

const filters = process.argv.slice(2)
const all = [...new Glob('test/**/*.test.ts').scanSync({ cwd: ROOT })].sort()
const files = filters.length ? all.filter((f) => filters.some((p) => f.includes(p.replace(/^\.\//, '')))) : all
const costs: Record<string, number> = (() => {
  try {
    return JSON.parse(readFileSync(COSTS, 'utf8')) as Record<string, number>
  } catch {
    return {}
  }
})()
const cost = (f: string) => costs[f] ?? guess(f)
const queue = [...files].sort((a, b) => cost(b) - cost(a))
// one more than the cores: the chain-bound files spend part of their time waiting on anvil
const jobs = Math.max(1, Number(process.env.ML2SC_TEST_JOBS ?? availableParallelism() + 1))
// ML2SC_COMPILE_CACHE= (empty) runs without the shared cache
const ownCache = process.env.ML2SC_COMPILE_CACHE === undefined
const cacheDir = ownCache ? mkdtempSync(path.join(tmpdir(), 'ml2sc-test-solc-')) : process.env.ML2SC_COMPILE_CACHE!
const env: Record<string, string | undefined> = { ...process.env, ML2SC_COMPILE_CACHE: cacheDir }
// ML2SC_PROFILE=<folder>: every bun process of the run (test files and the CLI processes they start) writes
// where its CPU went (test/helpers/profile.ts); `bun scripts/test-profile.ts <folder>` sums it per file
const PROFILE_PRELOAD = process.env.ML2SC_PROFILE ? ['--preload', path.join(ROOT, 'test/helpers/profile.ts')] : []
// never a runner inside a runner (a child bun given options before `test` runs package.json's "test" script)
if (process.env.ML2SC_TEST_RUNNER) {
  process.stderr.write('scripts/test.ts: started from inside a test run; refusing to start another\n')
  process.exit(2)
}
env.ML2SC_TEST_RUNNER = '1'
// one long-lived solc-js per core (scripts/solc-server.ts) compiles for every process of the run, so that
// no test file or CLI process loads solc-js itself (about 2.5 s of CPU each); ML2SC_COMPILE_SERVER= (empty)
// runs without them. Their CPU is counted in the run's total below.
const servers: ReturnType<typeof Bun.spawn>[] = []
const ownServer = process.env.ML2SC_COMPILE_SERVER === undefined
const serverDir = ownServer ? mkdtempSync(path.join(tmpdir(), 'ml2sc-test-solcd-')) : undefined
if (serverDir) {
  for (let i = 0; i < Math.min(availableParallelism(), files.length); i++)
    servers.push(Bun.spawn([process.execPath, path.join(ROOT, 'scripts/solc-server.ts'), serverDir], { cwd: ROOT, stdout: 'inherit', stderr: 'inherit', env: { ...process.env, BUN_OPTIONS: undefined } }))
  writeFileSync(path.join(serverDir, 'servers'), servers.map((p) => p.pid).join('\n'))
  env.ML2SC_COMPILE_SERVER = serverDir
}

type Outcome = { file: string; pass: number; fail: number; skip: number; code: number; seconds: number; cpu: number }
const count = (text: string, word: string) => Number(/^ *(\d+) /.exec(text.match(new RegExp(`^ *\\d+ ${word}$`, 'm'))?.[0] ?? '')?.[1] ?? 0)

async function runFile(file: string): Promise<Outcome> {
  const t0 = performance.now()
  const proc = Bun.spawn([process.execPath, 'test', ...PROFILE_PRELOAD, `./${file}`, '--timeout', String(TIMEOUT_MS)], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe', env })
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()])
  const code = await proc.exited
  const seconds = (performance.now() - t0) / 1000
  // user + system CPU of the file's process and everything it waited for (CLI runs, anvil)
  const cpu = Number(proc.resourceUsage()?.cpuTime.total ?? 0n) / 1e6
  const text = out + err
  const outcome = { file, pass: count(text, 'pass'), fail: count(text, 'fail'), skip: count(text, 'skip'), code, seconds, cpu }
  // a file that failed without counting a failure (it crashed, or a hook threw) counts as one
  if (code !== 0 && outcome.fail === 0) outcome.fail = 1
  process.stdout.write(`\n── ${file} · ${outcome.pass} pass, ${outcome.fail} fail · ${seconds.toFixed(1)} s · CPU ${cpu.toFixed(1)} s ──\n${out}${err.trimEnd()}\n`)
  return outcome
}

const t0 = performance.now()
const outcomes: Outcome[] = []
try {
  await Promise.all(
    Array.from({ length: Math.min(jobs, queue.length) }, async () => {
      for (let f = queue.shift(); f; f = queue.shift()) outcomes.push(await runFile(f))
    }),
  )
} finally {
  if (ownCache) rmSync(cacheDir, { recursive: true, force: true })
  for (const p of servers) p.kill()
  await Promise.all(servers.map((p) => p.exited))
  if (serverDir) rmSync(serverDir, { recursive: true, force: true })
}
const serverCpu = servers.reduce((a, p) => a + Number(p.resourceUsage()?.cpuTime.total ?? 0n) / 1e6, 0)
if (process.env.ML2SC_TEST_COSTS === 'write') {
  const next = { ...costs, ...Object.fromEntries(outcomes.map((o) => [o.file, Math.round(o.cpu)])) }
  const sorted = Object.fromEntries(Object.entries(next).filter(([f]) => all.includes(f)).sort(([, a], [, b]) => b - a))
  writeFileSync(COSTS, `${JSON.stringify(sorted, null, 1)}\n`)
}
const sum = (k: 'pass' | 'fail' | 'skip') => outcomes.reduce((a, o) => a + o[k], 0)
const cpu = outcomes.reduce((a, o) => a + o.cpu, 0) + serverCpu
const failed = outcomes.filter((o) => o.fail > 0)
process.stdout.write(`\n${outcomes.length} files, ${jobs} at a time, ${((performance.now() - t0) / 1000).toFixed(0)} s, CPU ${cpu.toFixed(0)} s${servers.length ? ` (${serverCpu.toFixed(0)} s of it in ${servers.length} solc servers)` : ''}${failed.length ? `; failed: ${failed.map((o) => o.file).join(', ')}` : ''}\n`)
process.stdout.write(` ${sum('skip')} skip\n ${sum('pass')} pass\n ${sum('fail')} fail\n`)
process.exit(files.length === 0 || sum('fail') > 0 ? 1 : 0)

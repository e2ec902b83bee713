// `npm test`: every test file in its own `bun test` process, a few at a time (the files share no state:
// each starts its own anvil on a free port and writes to its own temporary folders), so a 2-core machine
// runs the chain-bound files side by side. Each file's output is printed whole when it ends (no
// interleaving), then the totals as bun writes them (` N pass`, ` N fail`), which .ci/run reads (its last
// such lines). Exits non-zero on any failure, a crashed file included.
//
//   bun scripts/test.ts [path filters…]      ML2SC_TEST_JOBS=N to change the parallelism (default 3)
import { Glob } from 'bun'
import path from 'node:path'

const ROOT = path.resolve(import.meta.dir, '..')
/** Per-test timeout handed to bun: 15 minutes, about 5× the slowest test seen on a busy 2-core machine. */
const TIMEOUT_MS = 900_000
/** The files that start nodes and run whole pipelines: started first, so that the light ones fill the gaps. */
const HEAVY = /^test\/(chain|e2e|corpus|report|gas|codegen)\//

const filters = process.argv.slice(2)
const all = [...new Glob('test/**/*.test.ts').scanSync({ cwd: ROOT })].sort()
const files = filters.length ? all.filter((f) => filters.some((p) => f.includes(p.replace(/^\.\//, '')))) : all
const queue = [...files.filter((f) => HEAVY.test(f)), ...files.filter((f) => !HEAVY.test(f))]
const jobs = Math.max(1, Number(process.env.ML2SC_TEST_JOBS ?? 3))

type Outcome = { file: string; pass: number; fail: number; skip: number; code: number; seconds: number }
const count = (text: string, word: string) => Number(/^ *(\d+) /.exec(text.match(new RegExp(`^ *\\d+ ${word}$`, 'm'))?.[0] ?? '')?.[1] ?? 0)

async function runFile(file: string): Promise<Outcome> {
  const t0 = performance.now()
  const proc = Bun.spawn([process.execPath, 'test', `./${file}`, '--timeout', String(TIMEOUT_MS)], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe', env: process.env })
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()])
  const code = await proc.exited
  const seconds = (performance.now() - t0) / 1000
  const text = out + err
  const outcome = { file, pass: count(text, 'pass'), fail: count(text, 'fail'), skip: count(text, 'skip'), code, seconds }
  // a file that failed without counting a failure (it crashed, or a hook threw) counts as one
  if (code !== 0 && outcome.fail === 0) outcome.fail = 1
  process.stdout.write(`\n── ${file} · ${outcome.pass} pass, ${outcome.fail} fail · ${seconds.toFixed(1)} s ──\n${out}${err.trimEnd()}\n`)
  return outcome
}

const t0 = performance.now()
const outcomes: Outcome[] = []
await Promise.all(
  Array.from({ length: Math.min(jobs, queue.length) }, async () => {
    for (let f = queue.shift(); f; f = queue.shift()) outcomes.push(await runFile(f))
  }),
)
const sum = (k: 'pass' | 'fail' | 'skip') => outcomes.reduce((a, o) => a + o[k], 0)
const failed = outcomes.filter((o) => o.fail > 0)
process.stdout.write(`\n${outcomes.length} files, ${jobs} at a time, ${((performance.now() - t0) / 1000).toFixed(0)} s${failed.length ? `; failed: ${failed.map((o) => o.file).join(', ')}` : ''}\n`)
process.stdout.write(` ${sum('skip')} skip\n ${sum('pass')} pass\n ${sum('fail')} fail\n`)
process.exit(files.length === 0 || sum('fail') > 0 ? 1 : 0)

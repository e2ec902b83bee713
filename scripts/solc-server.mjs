// A long-lived solc-js compiler for the processes of one test run (src/compile/solcServer.ts describes the
// spool folder it serves): scripts/test.ts starts one per core, so that the test files and the CLI processes
// they start do not each load solc-js (about 2.5 s of CPU apiece). Requests are served oldest first; a
// request is claimed by renaming it, so two servers never compile the same one.
// Plain JavaScript, so that node runs it: node compiles solc-js's WebAssembly about a quarter faster than bun
// (0.20 against 0.27 CPU s per model contract here), and the runner prefers it when it is on PATH.
//   node scripts/solc-server.mjs <spool folder>      (or bun; stopped by its starter, with SIGTERM)
import { appendFileSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, watch, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createHash } from 'node:crypto'
import path from 'node:path'

const dir = process.argv[2]
if (!dir) throw new Error('usage: node scripts/solc-server.mjs <spool folder>')
/** @type {{ compile(input: string): string; version(): string }} */
const solc = createRequire(import.meta.url)('solc')
const version = solc.version()
// for scripts/solc-js-shim's --version (forge asks it before every build)
writeFileSync(path.join(dir, `version.${process.pid}.tmp`), version)
renameSync(path.join(dir, `version.${process.pid}.tmp`), path.join(dir, 'version'))

const profile = process.env.ML2SC_PROFILE ? path.join(process.env.ML2SC_PROFILE, `solc-server-${process.pid}.log`) : undefined

/** @returns {boolean} */
function serveOne() {
  const requests = readdirSync(dir)
    .filter((f) => f.endsWith('.in'))
    .map((f) => {
      try {
        return { f, t: statSync(path.join(dir, f)).mtimeMs }
      } catch {
        return undefined
      }
    })
    .filter((x) => x !== undefined)
    .sort((a, b) => a.t - b.t)
  for (const { f } of requests) {
    const id = f.slice(0, -'.in'.length)
    const work = path.join(dir, `${id}.${process.pid}.work`)
    try {
      renameSync(path.join(dir, f), work)
    } catch {
      continue // another server took it, or its client withdrew it
    }
    const t0 = process.cpuUsage()
    const input = readFileSync(work, 'utf8')
    const output = solc.compile(input)
    // under ML2SC_PROFILE (scripts/test-profile.ts): which process asked, the contract, and the CPU it took
    if (profile) {
      const u = process.cpuUsage(t0)
      const name = /"sources":\{"([^"]+)\.sol"/.exec(input)?.[1] ?? '?'
      // the input with the contract's name taken out: the same model compiled under two names shares this
      const shape = createHash('sha256').update(input.split(name).join('')).digest('hex').slice(0, 16)
      appendFileSync(profile, `${JSON.stringify({ pid: Number(id.split('-')[0]), name, shape, cpu: (u.user + u.system) / 1e6 })}\n`)
    }
    const tmp = path.join(dir, `${id}.out.tmp`)
    writeFileSync(tmp, `${version}\n${output}`)
    renameSync(tmp, path.join(dir, `${id}.out`))
    unlinkSync(work)
    return true
  }
  return false
}

/** @type {(() => void) | undefined} */
let wake
watch(dir, () => wake?.())
for (;;) {
  while (serveOne()) {}
  // woken by the folder's change, or every 200 ms in case a change was missed
  await new Promise((resolve) => {
    const t = setTimeout(resolve, 200)
    wake = () => (clearTimeout(t), resolve())
  })
}

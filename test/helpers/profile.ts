// ML2SC_PROFILE=<folder>: where a test file's CPU goes. scripts/test.ts preloads this file into each test
// file's process, which hands it on to the bun processes it starts (BUN_OPTIONS), so CLI runs report too.
// Each process writes one line of JSON to <folder>/<pid>.json when it exits:
//   own CPU, the solc compiles it ran (CPU each, solc-js's load included in the first, a key of the
//   standard-JSON input to count distinct ones), the compile-cache hits, and the processes it started
//   (Bun.spawn, which node:child_process and so anvil go through) with their CPU when they ended.
// Compiles are seen without touching src/: compileSolidity stringifies the standard-JSON input just
// before solc.compile and parses solc's output just after, so the CPU between the two is solc's.
// Reading only: nothing here changes what a test sees.
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import path from 'node:path'

const dir = process.env.ML2SC_PROFILE
// ML2SC_PROFILE_JS=1 as well: JavaScriptCore's sampling profiler in each test process, its hottest functions
// written to <folder>/SamplingProfile.*.txt at exit (where a file's own CPU goes, by function)
if (dir && process.env.ML2SC_PROFILE_JS && process.argv.some((a) => a.endsWith('.test.ts'))) (await import('bun:jsc')).startSamplingProfiler(dir)
if (dir) {
  // the CLI processes a test starts (bin/ml2sc runs `bun src/cli.ts`) load this file too
  process.env.BUN_OPTIONS = `--preload ${import.meta.path}`
  type Spawn = { cmd: string; cpu?: number }
  const compiles: { key: string; cpu: number }[] = []
  const spawns: Spawn[] = []
  let hits = 0
  let pending: { key: string; cpu: number } | undefined
  const cpuNow = () => {
    const u = process.cpuUsage()
    return (u.user + u.system) / 1e6
  }
  const stringify = JSON.stringify
  JSON.stringify = function (value: unknown, ...rest: unknown[]) {
    const s = (stringify as (...a: unknown[]) => string)(value, ...rest)
    const v = value as { language?: string; settings?: unknown } | null
    if (v && typeof v === 'object' && v.language === 'Solidity' && v.settings && typeof s === 'string') {
      pending = { key: createHash('sha256').update(s).digest('hex').slice(0, 16), cpu: cpuNow() }
    }
    return s
  } as typeof JSON.stringify
  const parse = JSON.parse
  JSON.parse = function (text: string, ...rest: unknown[]) {
    const out = (parse as (...a: unknown[]) => unknown)(text, ...rest)
    if (pending && typeof text === 'string' && out && typeof out === 'object') {
      const o = out as Record<string, unknown>
      if ('sourceHash' in o && 'bytecode' in o) {
        hits++
        pending = undefined
      } else if ('contracts' in o || 'errors' in o || 'sources' in o) {
        compiles.push({ key: pending.key, cpu: cpuNow() - pending.cpu })
        pending = undefined
      }
    }
    return out
  } as typeof JSON.parse
  const cmdOf = (a: unknown): string => {
    const c = Array.isArray(a) ? a : ((a as { cmd?: unknown[] })?.cmd ?? [])
    return (c as string[]).map((x) => path.basename(String(x))).slice(0, 3).join(' ')
  }
  // `bun build …` given BUN_OPTIONS=--preload reads `build` as a package.json script to run (scripts/release.ts
  // builds the binary so): the preload is for processes that run a file, so a bun subcommand goes without it
  const withoutPreload = (args: unknown[]) => {
    const a0 = args[0] as unknown[] | { cmd?: unknown[]; env?: Record<string, string | undefined> }
    const cmd = Array.isArray(a0) ? a0 : a0?.cmd
    if (!cmd || path.basename(String(cmd[0])).replace(/\.exe$/, '') !== 'bun' || !['build', 'install', 'pm', 'x'].includes(String(cmd[1]))) return args
    if (Array.isArray(a0)) {
      const o = (args[1] ?? {}) as { env?: Record<string, string | undefined> }
      return [a0, { ...o, env: { ...(o.env ?? process.env), BUN_OPTIONS: undefined } }, ...args.slice(2)]
    }
    return [{ ...a0, env: { ...(a0.env ?? process.env), BUN_OPTIONS: undefined } }, ...args.slice(1)]
  }
  const spawn = Bun.spawn
  ;(Bun as { spawn: unknown }).spawn = function (...given: unknown[]) {
    const args = withoutPreload(given)
    const proc = (spawn as (...a: unknown[]) => ReturnType<typeof Bun.spawn>).apply(Bun, args)
    const rec: Spawn = { cmd: cmdOf(args[0]) }
    spawns.push(rec)
    void proc.exited.then(() => {
      rec.cpu = Number(proc.resourceUsage()?.cpuTime.total ?? 0n) / 1e6
    })
    return proc
  }
  const spawnSync = Bun.spawnSync
  ;(Bun as { spawnSync: unknown }).spawnSync = function (...args: unknown[]) {
    const r = (spawnSync as (...a: unknown[]) => ReturnType<typeof Bun.spawnSync>).apply(Bun, args)
    spawns.push({ cmd: cmdOf(args[0]), cpu: Number(r.resourceUsage?.cpuTime.total ?? 0n) / 1e6 })
    return r
  }
  const write = () => {
    const argv = process.argv.slice(1).map((a) => path.relative(process.cwd(), a) || a)
    try {
      writeFileSync(path.join(dir, `${process.pid}.json`), stringify({ pid: process.pid, ppid: process.ppid, argv, cpu: cpuNow(), compiles, hits, spawns }))
    } catch {
      // a profile that cannot be written is only missing from the summary
    }
  }
  // bun test emits no 'exit': a test file's process writes after its last test, once the processes it
  // started (anvil, stopped by the file's own afterAll) have ended, or after 5 s
  if (process.argv.some((a) => a.endsWith('.test.ts'))) {
    ;(require('bun:test') as typeof import('bun:test')).afterAll(async () => {
      for (let i = 0; i < 50 && spawns.some((s) => s.cpu === undefined); i++) await Bun.sleep(100)
      write()
    })
  } else process.on('exit', write)
}

// Which test files share one `bun test` process (scripts/test.ts), and how one process's output is split
// back into per-file counts.
//
// A `bun test` process costs about 0.45 s of CPU just to start, and about 60 of the files take under 2 s of
// CPU in all, so each of those paid a quarter or more for its start-up. Those light files now run several
// per process. Bun loads each file of a process in the same global scope (one module cache), so only files
// that leave nothing behind are batched: a file is light when its last measured CPU (scripts/test-costs.json)
// is at most LIGHT_CPU, and it is batched only if its source shows none of the things that reach beyond the
// file (SHARED_STATE below): a node it starts (its wall time is waiting, better spent beside other work), a
// CLI command that runs on a chain, a process it starts or asserts on, the environment, exit code, working
// folder, or a global it replaces. A file not measured yet never batches.
import { readFileSync } from 'node:fs'
import path from 'node:path'

/** CPU seconds (as measured alone) up to which a file is light. */
export const LIGHT_CPU = 2
/** Light files per process: enough to pay the start-up once, few enough to keep both cores busy at the end. */
export const BATCH_FILES = 12
/** Source text that keeps a file in its own process (see above). */
const SHARED_STATE = new RegExp(
  [
    // nodes: the embedded anvil, a remote one, the helpers that start one, a CLI stage that runs on a chain
    'fileChain|connectChain|startAnvil|startRemoteAnvil|deployCnn|headsRun|convGraphRun|sequenceChain|helpers/forge|forgery',
    `'(run|deploy|upload|evaluate|update|predict|verify|gas)'|\\b(run|deploy|upload|evaluate|update|predict|verify|gas)Command\\b|\\.\\./chain/helpers`,
    // processes and process-wide state
    'Bun\\.spawn|spawnSync|child_process|\\brunCli\\(|process\\.env\\.\\w+\\s*=(?!=)|delete process\\.env|process\\.exitCode\\s*=|process\\.chdir',
    'process\\.on\\(|process\\.exit\\b|mock\\.module|spyOn|setSystemTime|globalThis\\.\\w+\\s*=(?!=)',
  ].join('|'),
)

/** The files (of `files`) that may share a process with other light files. */
export function batchable(root: string, files: string[], costs: Record<string, number>): Set<string> {
  return new Set(files.filter((f) => costs[f] !== undefined && costs[f]! <= LIGHT_CPU && !SHARED_STATE.test(readFileSync(path.join(root, f), 'utf8'))))
}

/**
 * The light files dealt into groups of about BATCH_FILES, each group as even in CPU as the costs allow
 * (heaviest file first into the lightest group).
 */
export function batches(light: string[], cost: (f: string) => number): string[][] {
  const n = Math.ceil(light.length / BATCH_FILES)
  const groups = Array.from({ length: n }, () => ({ files: [] as string[], cpu: 0 }))
  for (const f of [...light].sort((a, b) => cost(b) - cost(a))) {
    const g = groups.filter((x) => x.files.length < BATCH_FILES).sort((a, b) => a.cpu - b.cpu)[0]!
    g.files.push(f)
    g.cpu += cost(f) + 0.25
  }
  return groups.map((g) => g.files.sort())
}

export type FileCounts = { pass: number; fail: number; skip: number; seen: boolean; failed: string[] }

/**
 * Per-file counts from one process's stderr: bun heads each file's results with `<file>:` and writes one
 * `(pass)` / `(fail)` / `(skip)` / `(todo)` line per test, and `# Unhandled error between tests` (a failure bun
 * counts as ` N error`); the summary after the last file (the failures repeated, then ` N pass`) belongs
 * to no file.
 */
export function splitByFile(files: string[], stderr: string): Map<string, FileCounts> {
  const out = new Map<string, FileCounts>(files.map((f) => [f, { pass: 0, fail: 0, skip: 0, seen: false, failed: [] }]))
  let cur: FileCounts | undefined
  for (const line of stderr.split('\n')) {
    const head = /^(\S+\.test\.ts):$/.exec(line)
    if (head) {
      cur = out.get(head[1]!.replace(/^\.\//, ''))
      if (cur) cur.seen = true
      continue
    }
    if (/^ *\d+ tests? (failed|skipped|todo):?$/.test(line) || /^ *\d+ pass$/.test(line)) cur = undefined
    if (!cur) continue
    if (line.startsWith('(pass) ')) cur.pass++
    else if (line.startsWith('(fail) ')) {
      cur.fail++
      cur.failed.push(line.slice(7).replace(/ \[[\d.]+m?s\]$/, ''))
    } else if (line.startsWith('(skip) ') || line.startsWith('(todo) ')) cur.skip++
    else if (line.startsWith('# Unhandled error')) {
      cur.fail++
      cur.failed.push(line.slice(2).toLowerCase())
    }
  }
  return out
}

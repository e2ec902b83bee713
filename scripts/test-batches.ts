// Which test files share one `bun test` process (scripts/test.ts), and how one process's output is split
// back into per-file counts.
//
// A `bun test` process pays about 1 s of CPU before its file's own work: bun's start, and loading and
// transpiling the modules a test reaches (viem, the model readers, the pipeline). Twelve small chain files
// took 24 CPU s in twelve processes and 8.5 in one. So every file that is not heavy runs in a batch with
// others, when its source shows none of the things that reach beyond the file (SHARED_STATE below): the
// environment, exit code, working folder, signal handlers, or a global it replaces. Bun loads the files of a
// process one after another in one module cache, so a file that starts its own anvil, runs the CLI in-process
// (which swaps stdout, argv and the folder for the call and puts them back) or as a child process, or
// compiles, is a good neighbour: a child process has its own state, and no test asserts on the process
// table. A file is not heavy when its last measured CPU (scripts/test-costs.json) is at most LIGHT_CPU; a
// file not measured yet never batches.
import { readFileSync } from 'node:fs'
import path from 'node:path'

/** CPU seconds (as measured alone) up to which a file batches. */
export const LIGHT_CPU = 6
/** CPU seconds (as measured alone, so each file's start-up counted) per batch: about a tenth of the run, so that
 * the batches still spread over the cores and none ends the run alone. */
export const BATCH_CPU = 30
/** Files per batch at most: a batch's output is one block, and a failure names the file it ran in. */
export const BATCH_FILES = 16
/** Source text that keeps a file in its own process (see above). */
const SHARED_STATE = new RegExp(
  [
    // process-wide state
    'process\\.env\\.\\w+\\s*=(?!=)|delete process\\.env|process\\.exitCode\\s*=|process\\.chdir',
    'process\\.on\\(|process\\.exit\\b|mock\\.module|spyOn|setSystemTime|globalThis\\.\\w+\\s*=(?!=)',
  ].join('|'),
)

/** Wall seconds per CPU second from which a file counts as mostly waiting (on blocks, timeouts, retries). */
export const WAITING_RATIO = 4
/** …and wall seconds: a file that waits briefly is batched as any other. */
export const WAITING_WALL = 10

/**
 * Files that mostly wait (3-second blocks, an RPC's injected timeouts and retries), by their last measured
 * wall and CPU: each runs alone, in a lane of its own (scripts/test.ts), so that its waiting neither holds
 * a batch's slot nor leaves a core idle.
 */
export function mostlyWaiting(files: string[], costs: Record<string, number>, walls: Record<string, number>): Set<string> {
  return new Set(files.filter((f) => walls[f] !== undefined && walls[f]! >= WAITING_WALL && walls[f]! >= WAITING_RATIO * Math.max(1, costs[f] ?? 0)))
}

/** The files (of `files`) that may share a process with other light files. */
export function batchable(root: string, files: string[], costs: Record<string, number>, waiting: Set<string> = new Set()): Set<string> {
  return new Set(files.filter((f) => costs[f] !== undefined && costs[f]! <= LIGHT_CPU && !waiting.has(f) && !SHARED_STATE.test(readFileSync(path.join(root, f), 'utf8'))))
}

/**
 * The light files dealt into groups of at most BATCH_FILES files and about BATCH_CPU each, each group as even
 * in CPU as the costs allow (heaviest file first into the lightest group).
 */
export function batches(light: string[], cost: (f: string) => number): string[][] {
  const total = light.reduce((a, f) => a + cost(f), 0)
  const n = Math.max(Math.ceil(light.length / BATCH_FILES), Math.ceil(total / BATCH_CPU))
  const groups = Array.from({ length: n }, () => ({ files: [] as string[], cpu: 0 }))
  for (const f of [...light].sort((a, b) => cost(b) - cost(a))) {
    const g = groups.filter((x) => x.files.length < BATCH_FILES).sort((a, b) => a.cpu - b.cpu)[0]!
    g.files.push(f)
    g.cpu += cost(f)
  }
  return groups.filter((g) => g.files.length).map((g) => g.files.sort())
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

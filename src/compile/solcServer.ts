import { createHash } from 'node:crypto'
import { existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'

/**
 * ML2SC_COMPILE_SERVER=<folder>: hand solc's standard-JSON input to long-lived solc-js processes
 * (scripts/solc-server.mjs; the test runner starts them) instead of loading solc-js in this process, which
 * costs about 2.5 s of CPU (compiling its 9 MB of WebAssembly, then warming it up) in every process that
 * compiles. The same solc-js package compiles the same input: only the process differs.
 *
 * The folder is a spool: the request is written as `<id>.in` (whole: a temporary file renamed into place);
 * a server claims it by renaming it to `<id>.<server pid>.work`, then writes `<id>.out`: solc's version on
 * the first line, its standard-JSON output after it. The folder's `servers` file lists the servers' pids.
 * Returns undefined (the caller compiles in-process) when no server is listed or alive, or when the one
 * that claimed the request has died.
 */
export function compileOnServer(inputJson: string): { output: string; version: string } | undefined {
  const dir = process.env.ML2SC_COMPILE_SERVER
  if (!dir) return undefined
  let pids: number[]
  try {
    pids = readFileSync(path.join(dir, 'servers'), 'utf8').split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return undefined
  }
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0)
      return true
    } catch {
      return false
    }
  }
  if (!pids.some(alive)) return undefined
  const id = `${process.pid}-${++sequence}-${createHash('sha256').update(inputJson).digest('hex').slice(0, 12)}`
  const request = path.join(dir, `${id}.in`)
  const reply = path.join(dir, `${id}.out`)
  try {
    writeFileSync(`${request}.tmp`, inputJson)
    renameSync(`${request}.tmp`, request)
  } catch {
    return undefined
  }
  for (let i = 0; ; i++) {
    if (existsSync(reply)) {
      const text = readFileSync(reply, 'utf8')
      unlinkSync(reply)
      const nl = text.indexOf('\n')
      return { version: text.slice(0, nl), output: text.slice(nl + 1) }
    }
    // about once a second: is a server still there to answer (the one holding the request, if one does)?
    if (i % 100 === 99) {
      const dead = pids.filter((p) => !alive(p))
      if (dead.length === pids.length || dead.some((p) => existsSync(path.join(dir, `${id}.${p}.work`)))) {
        try {
          unlinkSync(request)
        } catch {
          // claimed meanwhile, by a server that may yet answer: the caller compiles anyway
        }
        return undefined
      }
    }
    Atomics.wait(sleeper, 0, 0, i < 50 ? 2 : 10)
  }
}

let sequence = 0
const sleeper = new Int32Array(new SharedArrayBuffer(4))

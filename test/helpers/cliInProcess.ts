// The CLI run inside the test's own process: the same src/cli.ts (argument parsing, dispatch, the one-line
// error report, the exit code), evaluated afresh for each call, with stdout and stderr captured. A CLI
// process costs a bun start-up and a fresh load of every module (yargs, viem, the ONNX reader, solc-js when
// it compiles); here the modules stay loaded between calls and solc's results stay in memory.
//
// For tests about what a command does, not about the process: exit codes, one-line errors, the absence of
// a stack trace and --help (yargs' process.exit is caught) are those of src/cli.ts either way, and the tests
// that are about the process itself (the launcher, signals, start-up cost) keep `runCli` (helpers/paths.ts). Calls run one at a time (the
// process's stdout, stderr, argv, environment and working folder are swapped in for each), so callers may
// start several at once.
import path from 'node:path'
import { ROOT } from './paths.ts'

const CLI_TS = path.join(ROOT, 'src/cli.ts')
let calls = 0
let queue: Promise<unknown> = Promise.resolve()

type Result = { code: number; stdout: string; stderr: string }

/** `runCli`'s contract (exit code and both outputs), in this process. */
export function runCliInProcess(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<Result> {
  const next = queue.then(() => runOne(args, opts))
  queue = next.catch(() => {})
  return next
}

async function runOne(args: string[], opts: { cwd?: string; env?: Record<string, string> }): Promise<Result> {
  const out: string[] = []
  const err: string[] = []
  const saved = { argv: process.argv, cwd: process.cwd(), exitCode: process.exitCode, out: process.stdout.write, err: process.stderr.write, exit: process.exit, log: console.log, error: console.error, columns: Object.getOwnPropertyDescriptor(process.stdout, 'columns') }
  const env = { CI: '1', ...opts.env }
  const savedEnv = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]))
  const capture = (into: string[]) =>
    function (chunk: unknown, ...rest: unknown[]) {
      into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'))
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined
      cb?.()
      return true
    } as typeof process.stdout.write
  try {
    for (const [k, v] of Object.entries(env)) process.env[k] = v
    process.chdir(opts.cwd ?? ROOT)
    process.argv = [process.argv[0]!, CLI_TS, ...args]
    process.exitCode = 0
    process.stdout.write = capture(out)
    process.stderr.write = capture(err)
    // yargs prints --help through console.log, then calls process.exit(0): kept as the exit code here, and
    // yargs then runs no handler. The help is wrapped as in a CLI process whose stdout is a pipe (no columns)
    console.log = (...a: unknown[]) => void out.push(`${a.join(' ')}\n`)
    console.error = (...a: unknown[]) => void err.push(`${a.join(' ')}\n`)
    process.exit = ((code?: number) => void (process.exitCode = code ?? 0)) as typeof process.exit
    Object.defineProperty(process.stdout, 'columns', { value: undefined, configurable: true })
    // a new instance of src/cli.ts (its top-level `await main(…)` is the whole command); its imports stay cached
    await import(`${CLI_TS}?call=${++calls}`)
    return { code: Number(process.exitCode ?? 0), stdout: out.join(''), stderr: err.join('') }
  } finally {
    process.stdout.write = saved.out
    process.stderr.write = saved.err
    process.exit = saved.exit
    console.log = saved.log
    console.error = saved.error
    if (saved.columns) Object.defineProperty(process.stdout, 'columns', saved.columns)
    else delete (process.stdout as { columns?: number }).columns
    process.argv = saved.argv
    // `undefined` does not clear an exit code once set (bun): 0 does
    process.exitCode = saved.exitCode ?? 0
    process.chdir(saved.cwd)
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}

#!/usr/bin/env bun
import yargs from 'yargs'
import { hideBin } from 'yargs/helpers'
import { Ml2scError } from './errors/base.ts'
import { commands } from './commands/index.ts'
import { loggerFor, type Ml2scCommand } from './commands/context.ts'
import { unknownCommand, usageError, type CommandInfo } from './ui/usageError.ts'
import { examplesEpilogue } from './ui/examplesEpilogue.ts'

/** The commands that can send transactions, so spend money on a non-local chain: they take --yes. */
const SPENDING_COMMANDS = new Set(['run', 'deploy', 'upload', 'evaluate', 'update', 'predict'])
const YES = 'Allow spending real money on a non-local chain (chain.rpcUrl); the estimated cost is printed first'

/** Wiring only: parse, dispatch, and turn any failure into one line and a non-zero exit. */
async function main(argv: string[]) {
  const verbose = argv.includes('--verbose') || argv.includes('-v')
  const json = argv.includes('--json')
  if (argv.includes('--version')) {
    const { versionLines } = await import('./commands/versions.ts')
    process.stdout.write(versionLines().join('\n') + '\n')
    return
  }
  // each command's options, filled in by its builder, for the did-you-mean of an unknown option
  const known: CommandInfo[] = commands.map((c) => ({ name: c.command.split(' ')[0]!, positional: /<(\w+)>/.exec(c.command)?.[1], options: [] }))
  const globals = ['verbose', 'quiet', 'json', 'out', 'help', 'version']
  /** yargs' builder and handler for the command that runs (`--yes` only where it can send paid transactions). */
  const wire = (command: string, c: Ml2scCommand) => {
    const name = command.split(' ')[0]!
    return {
      builder: ((y: never) => {
        // examples are listed after the options, each command on a line of its own (yargs' two-column
        // layout wraps long commands mid-way)
        const b = examplesEpilogue(y, (yy) => c.builder(yy))
        const full = SPENDING_COMMANDS.has(name) ? b.option('yes', { type: 'boolean', default: false, describe: YES }) : b
        known.find((k) => k.name === name)!.options = Object.keys((full as unknown as { getOptions: () => { key: object } }).getOptions().key)
        return full
      }) as never,
      handler: async (a: any) => {
        if (SPENDING_COMMANDS.has(name)) (await import('./chain/spendGuard.ts')).approveSpending(Boolean(a.yes))
        const value = await c.handler(a, loggerFor(a))
        const code = (value as { exitCode?: number } | undefined)?.exitCode
        if (a.json && value !== undefined) process.stdout.write(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) + '\n')
        if (code) process.exitCode = code
      },
    }
  }
  try {
    const notACommand = unknownCommand(argv, known)
    if (notACommand) throw notACommand
    // only the command that runs is loaded (with solc, viem, the model readers, as it needs them): the
    // others are listed by name and description, so `ml2sc --help` loads none of them
    const word = commandWord(argv)
    const invoked = commands.find((c) => c.command.split(' ')[0] === word)
    const loaded = invoked ? await invoked.load() : undefined
    await yargs(argv)
      .scriptName('ml2sc')
      .version(false)
      .option('version', { type: 'boolean', describe: 'Print the ml2sc, solc and anvil versions (anvil: the one a run would start)' })
      .usage('ml2sc — a trained PyTorch network (MLP, CNN, GRU/LSTM or attention; residuals, concats, heads) → gas-efficient Solidity, deployed and checked against PyTorch on chain\n\nUsage: $0 <command> [options]')
      .option('verbose', { type: 'boolean', default: false, describe: 'More detail; full error causes and stack traces' })
      .option('quiet', { type: 'boolean', default: false, describe: 'Only errors' })
      .option('json', { type: 'boolean', default: false, describe: 'Machine-readable output on stdout' })
      .option('out', { type: 'string', describe: 'Output folder (default: `output` from the config, `out/` beside it)' })
      .command(
        commands.map((c) => ({
          command: c.command,
          describe: c.describe,
          // a command that was not loaded never runs (yargs dispatches the invoked one), but yargs wants a handler
          ...(c === invoked ? wire(c.command, loaded!) : { handler: () => Promise.reject(new Error(`${c.command} was not loaded`)) }),
        })),
      )
      .demandCommand(1, 'no command given')
      .strict()
      .recommendCommands()
      .fail((msg, err) => {
        if (err) throw err
        throw usageError(msg ?? '', argv, known, globals)
      })
      .help()
      .wrap(Math.min(110, process.stdout.columns ?? 100))
      .parseAsync()
  } catch (e) {
    process.exitCode = report(e, verbose, json)
  }
}

/** The command: the first word that is neither an option nor the value of the one global option that takes one (--out). */
function commandWord(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') i++
    else if (!argv[i]!.startsWith('-')) return argv[i]
  }
  return undefined
}

/**
 * A failure: one line on stderr (what, where, hint), or with --json the same as one JSON object on stdout,
 * `{"error", "where", "hint"}` (where and hint null when there are none) as well, so that a script reading
 * stdout always gets JSON. Exit code 1 for an Ml2scError, 2 for a bug.
 */
function report(e: unknown, verbose: boolean, json: boolean): number {
  if (json) {
    const known = e instanceof Ml2scError
    const error = known ? e.shortMessage : `internal error: ${(e as Error)?.message ?? String(e)}`
    const hint = known ? (e.hint ?? null) : 'this is a bug in ml2sc; rerun with --verbose and report it'
    process.stdout.write(JSON.stringify({ error, where: known ? (e.where ?? null) : null, hint }) + '\n')
  }
  if (e instanceof Ml2scError) {
    process.stderr.write(`ml2sc: error: ${e.oneLine()}\n`)
    if (verbose) {
      if (e.details) process.stderr.write(e.details + '\n')
      if (e.cause) process.stderr.write(`cause: ${String((e.cause as Error)?.stack ?? e.cause)}\n`)
      process.stderr.write(String(e.stack) + '\n')
    }
    return 1
  }
  const err = e as Error
  process.stderr.write(`ml2sc: internal error: ${err?.message ?? String(e)} (hint: this is a bug in ml2sc; rerun with --verbose and report it)\n`)
  if (verbose) process.stderr.write(String(err?.stack) + '\n')
  return 2
}

await main(hideBin(process.argv))

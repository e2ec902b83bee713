#!/usr/bin/env bun
import yargs from 'yargs'
import { hideBin } from 'yargs/helpers'
import { Ml2scError } from './errors/base.ts'
import { createLogger } from './ui/logger.ts'
import { ML2SC_VERSION } from './version.ts'
import { runCommand } from './commands/run.ts'

type Globals = { verbose: boolean; quiet: boolean; json: boolean; out?: string }

/** Wiring only: parse, dispatch, and turn any failure into one line and a non-zero exit. */
async function main(argv: string[]) {
  let verbose = argv.includes('--verbose') || argv.includes('-v')
  const logger = (g: Globals) => createLogger({ quiet: g.quiet || g.json, verbose: g.verbose })
  const emit = (g: Globals, value: unknown) => {
    if (g.json) process.stdout.write(JSON.stringify(value) + '\n')
  }
  try {
    await yargs(argv)
      .scriptName('ml2sc')
      .version(ML2SC_VERSION)
      .usage('ml2sc — PyTorch MLP → gas-efficient Solidity, deployed and checked against PyTorch on chain\n\nUsage: $0 <command> [options]')
      .option('verbose', { type: 'boolean', default: false, describe: 'More detail; full error causes and stack traces' })
      .option('quiet', { type: 'boolean', default: false, describe: 'Only errors' })
      .option('json', { type: 'boolean', default: false, describe: 'Machine-readable output on stdout' })
      .option('out', { type: 'string', describe: 'Output folder (default: `output` from the config, `out/` beside it)' })
      .command(
        'run <config>',
        'Run the whole pipeline: compile, deploy (embedded anvil by default), upload, evaluate, report',
        (y) =>
          y
            .positional('config', { type: 'string', demandOption: true, describe: 'ml2sc.yaml' })
            .example('$0 run ml2sc.yaml', 'everything, on a fresh embedded anvil')
            .example('$0 run examples/iris/ml2sc.yaml --out /tmp/iris', 'write the reports elsewhere'),
        async (a) => {
          const report = await runCommand({ config: a.config!, out: a.out }, logger(a as Globals))
          emit(a as Globals, { ...report, predictions: undefined })
        },
      )
      .demandCommand(1, 'Say which command to run: see `ml2sc --help`.')
      .strict()
      .recommendCommands()
      .fail((msg, err) => {
        if (err) throw err
        throw new Ml2scError(msg ?? 'invalid command line', { hint: 'see `ml2sc --help`' })
      })
      .help()
      .wrap(Math.min(110, process.stdout.columns ?? 100))
      .parseAsync()
  } catch (e) {
    process.exitCode = report(e, verbose)
  }
}

function report(e: unknown, verbose: boolean): number {
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

import type { Argv, ArgumentsCamelCase } from 'yargs'
import { createLogger, type Logger } from '../ui/logger.ts'

/** Flags every command takes. */
export type Globals = { verbose: boolean; quiet: boolean; json: boolean; out?: string; /** Allow spending on a non-local chain. */ yes?: boolean }

/**
 * One subcommand: its yargs wiring and its handler (its name and description are in commands/index.ts). The handler returns the value `--json` prints on
 * stdout (or undefined); failures throw an Ml2scError, which cli.ts turns into one line and an exit code.
 * A handler may return `{ exitCode }` to end with a non-zero code without an error (e.g. `verify`).
 */
export type Ml2scCommand = {
  builder: (y: Argv<Globals>) => Argv<any>
  handler: (args: ArgumentsCamelCase<any> & Globals, log: Logger) => Promise<unknown>
}

export const loggerFor = (g: Globals) => createLogger({ quiet: g.quiet || g.json, verbose: g.verbose })

/**
 * The one error type ml2sc throws on purpose. The CLI prints `shortMessage` (one line naming what is
 * wrong and where) plus the hint; `--verbose` adds details, the cause chain and the stack.
 */
export type ErrorArgs = {
  /** Where the problem is: a file, a config key path, a CSV row/column, a layer. */
  where?: string
  /** What the user can do about it. */
  hint?: string
  /** Extra lines shown with --verbose. */
  details?: string
  cause?: unknown
}

export class Ml2scError extends Error {
  override name = 'Ml2scError'
  readonly shortMessage: string
  readonly where?: string
  readonly hint?: string
  readonly details?: string

  constructor(shortMessage: string, args: ErrorArgs = {}) {
    super(
      [args.where ? `${args.where}: ${shortMessage}` : shortMessage, args.hint && `hint: ${args.hint}`]
        .filter(Boolean)
        .join('\n'),
      args.cause === undefined ? undefined : { cause: args.cause },
    )
    this.shortMessage = shortMessage
    this.where = args.where
    this.hint = args.hint
    this.details = args.details
  }

  /** The single line the CLI prints. */
  oneLine(): string {
    const head = this.where ? `${this.where}: ${this.shortMessage}` : this.shortMessage
    return this.hint ? `${head} (hint: ${this.hint})` : head
  }
}

export class ConfigError extends Ml2scError {
  override name = 'ConfigError'
}
export class ModelError extends Ml2scError {
  override name = 'ModelError'
}
export class DataError extends Ml2scError {
  override name = 'DataError'
}
export class CompileError extends Ml2scError {
  override name = 'CompileError'
}
export class ChainError extends Ml2scError {
  override name = 'ChainError'
}
export class NumericsError extends Ml2scError {
  override name = 'NumericsError'
}

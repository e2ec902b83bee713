import type { Argv } from 'yargs'

/**
 * Run a command's builder, collecting its `.example(cmd, what)` calls, and list them as an epilogue: each
 * example command on a line of its own and its description indented below, so that no command is wrapped
 * mid-way (yargs prints examples in two columns and wraps long commands inside the first).
 */
export function examplesEpilogue(y: Argv<any>, build: (y: Argv<any>) => Argv<any>): Argv<any> {
  const examples: [string, string][] = []
  const target = y as unknown as { example: (cmd: string, what?: string) => unknown }
  const original = target.example
  target.example = function (cmd: string, what?: string) {
    examples.push([cmd.replace(/\$0/g, 'ml2sc'), what ?? ''])
    return this
  }
  try {
    const b = build(y)
    if (!examples.length) return b
    return b.epilogue(['Examples:', ...examples.map(([cmd, what]) => `  ${cmd}\n      ${what}`)].join('\n'))
  } finally {
    target.example = original
  }
}

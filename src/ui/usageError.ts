import { Ml2scError } from '../errors/base.ts'
import { closest } from './closest.ts'

/** What the command line knows of one command: its name, its positional (`config`), its options. */
export type CommandInfo = { name: string; positional?: string; options: string[] }

/** What each positional is, in ml2sc's words, with an example. */
const NEEDS: Record<string, (cmd: string) => { what: string; hint: string }> = {
  config: (cmd) => ({
    what: `\`ml2sc ${cmd}\` needs a config file, e.g. \`ml2sc ${cmd} ml2sc.yaml\``,
    hint: 'no config yet? `ml2sc init model.pt --data test.csv` writes one beside the model',
  }),
  model: (cmd) => ({ what: `\`ml2sc ${cmd}\` needs a model file, e.g. \`ml2sc ${cmd} model.pt --data test.csv\``, hint: 'the model: .onnx, .pt/.pth, .safetensors or .json; `ml2sc init --help` shows the options' }),
  target: (cmd) => ({ what: `\`ml2sc ${cmd}\` needs a model file or a config, e.g. \`ml2sc ${cmd} model.onnx\``, hint: `\`ml2sc ${cmd} --help\` shows the options` }),
}

/** The first word of the command line that is not an option (a flag's value is not told apart). */
const commandWord = (argv: string[]) => argv.find((a) => !a.startsWith('-'))

/** A command word that is not a command: say so, and name the closest one. Undefined when it is a command. */
export function unknownCommand(argv: string[], commands: CommandInfo[]): Ml2scError | undefined {
  const word = argv[0]
  if (word === undefined || word.startsWith('-') || commands.some((c) => c.name === word)) return undefined
  const near = closest(word, commands.map((c) => c.name))
  return new Ml2scError(`unknown command '${word}'`, {
    hint: `${near ? `did you mean \`ml2sc ${near}\`? ` : ''}\`ml2sc --help\` lists every command`,
  })
}

/**
 * yargs' validation message (`Unknown argument: quite`, `Not enough non-option arguments: got 0, need at
 * least 1`, …) as one ml2sc error: what is wrong in ml2sc's words, the closest option for a typo, and where
 * to look. `globals` are the options every command takes.
 */
export function usageError(msg: string, argv: string[], commands: CommandInfo[], globals: string[]): Ml2scError {
  if (msg === 'no command given')
    return new Ml2scError(msg, { hint: 'start with `ml2sc init model.pt`, then `ml2sc run ml2sc.yaml`; `ml2sc --help` lists every command' })
  const word = commandWord(argv)
  const cmd = commands.find((c) => c.name === word)
  const helpOf = cmd ? `\`ml2sc ${cmd.name} --help\`` : '`ml2sc --help`'
  const yargsSuggests = /^Did you mean (\S+)\?$/.exec(msg)
  if (yargsSuggests) return new Ml2scError(`unknown command '${word}'`, { hint: `did you mean \`ml2sc ${yargsSuggests[1]}\`? \`ml2sc --help\` lists every command` })
  if (/^Not enough non-option arguments/.test(msg) && cmd?.positional) {
    const needs = NEEDS[cmd.positional]?.(cmd.name) ?? { what: `\`ml2sc ${cmd.name}\` needs <${cmd.positional}>`, hint: `see ${helpOf}` }
    return new Ml2scError(needs.what, { hint: needs.hint })
  }
  const missing = /^Missing required arguments?: (.+)$/.exec(msg)
  if (missing && cmd) {
    const flags = missing[1]!.split(', ').map((n) => `--${n}`)
    // a misspelt required option shows up as missing: name the typed flag it was probably meant to be
    const typo = argv.filter((a) => a.startsWith('--')).map((a) => a.slice(2).split('=')[0]!).find((n) => !cmd.options.includes(n) && !globals.includes(n))
    // …or, when it is near none of them, the option of the command it was probably meant to be
    const near = typo !== undefined ? (closest(typo, missing[1]!.split(', ')) ?? closest(typo, cmd.options.filter((o) => o.length > 1 && !/[A-Z]/.test(o)))) : undefined
    const typoHint = typo === undefined ? '' : near ? `--${typo} is not an option: did you mean --${near}? ` : `--${typo} is not an option either; `
    return new Ml2scError(`\`ml2sc ${cmd.name}\` needs ${flags.join(' and ')}`, { hint: `${typoHint}${helpOf} lists its options` })
  }
  const unknown = /^Unknown arguments?: (.+)$/.exec(msg)
  if (unknown) {
    const names = unknown[1]!.split(', ')
    // yargs also names the camelCase twin of a dashed option: report the one that was typed
    const typed = names.find((n) => argv.some((a) => a === `--${n}` || a.startsWith(`--${n}=`) || a === `-${n}` || a === `--no-${n}`))
    if (typed !== undefined) {
      const options = [...new Set([...(cmd?.options ?? []), ...globals])].filter((o) => o.length > 1 && !/[A-Z]/.test(o))
      const near = closest(typed, options)
      const flag = argv.includes(`--no-${typed}`) ? `--no-${typed}` : typed.length === 1 ? `-${typed}` : `--${typed}`
      return new Ml2scError(`unknown option ${flag}${cmd ? ` for \`ml2sc ${cmd.name}\`` : ''}`, {
        hint: `${near ? `did you mean --${near}? ` : ''}${helpOf} lists ${cmd ? 'its' : 'the'} options`,
      })
    }
    const extra = names[0]!
    return new Ml2scError(`unexpected argument '${extra}'${cmd ? ` for \`ml2sc ${cmd.name}\`` : ''}`, {
      hint: cmd?.positional ? `\`ml2sc ${cmd.name}\` takes one <${cmd.positional}>; a path with spaces needs quotes; see ${helpOf}` : `see ${helpOf}`,
    })
  }
  return new Ml2scError(msg || 'invalid command line', { hint: `see ${helpOf}` })
}

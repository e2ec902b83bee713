// The command line in ml2sc's own words: an unknown command names the closest one, a missing config says
// what `run` needs, an unknown option gets a did-you-mean, help examples are never wrapped mid-command,
// and `ml2sc schema` prints the config's JSON Schema (which error hints cite instead of a repo path).
// src/cli.ts runs in the test's process (helpers/cliInProcess.ts): the words, exit codes and help are its own.
import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { closest } from '../../src/ui/closest.ts'
import { commands } from '../../src/commands/index.ts'
import { ROOT } from '../helpers/paths.ts'
import { runCliInProcess as runCli } from '../helpers/cliInProcess.ts'
import { bcProject } from './helpers.ts'

/** One error line on stderr, exit 1, nothing on stdout. */
async function oneLine(args: string[]): Promise<string> {
  const r = await runCli(args)
  expect([args.join(' '), r.code]).toEqual([args.join(' '), 1])
  const lines = r.stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  return lines[0]!
}

describe('usage errors', () => {
  test('closest: typos and prefixes, nothing for a far word', () => {
    const names = commands.map((c) => c.command.split(' ')[0]!)
    expect(closest('rnu', names)).toBe('run')
    expect(closest('evalute', names)).toBe('evaluate')
    expect(closest('ver', names)).toBe('verify')
    expect(closest('frobnicate', names)).toBeUndefined()
    expect(closest('quite', ['quiet', 'json', 'out'])).toBe('quiet')
  })

  test('an unknown command is named, with the closest command', async () => {
    expect(await oneLine(['rnu', 'ml2sc.yaml'])).toBe('ml2sc: error: unknown command \'rnu\' (hint: did you mean `ml2sc run`? `ml2sc --help` lists every command)')
    expect(await oneLine(['frobnicate'])).toBe("ml2sc: error: unknown command 'frobnicate' (hint: `ml2sc --help` lists every command)")
  })

  test('run with no config says what it needs', async () => {
    const line = await oneLine(['run'])
    expect(line).toBe('ml2sc: error: `ml2sc run` needs a config file, e.g. `ml2sc run ml2sc.yaml` (hint: no config yet? `ml2sc init model.pt --data test.csv` writes one beside the model)')
    expect(line).not.toMatch(/non-option/)
    expect(await oneLine(['init'])).toMatch(/^ml2sc: error: `ml2sc init` needs a model file/)
  })

  test('an unknown option gets a did-you-mean from that command\'s own options', async () => {
    const cfg = bcProject()
    expect(await oneLine(['run', cfg, '--quite'])).toBe('ml2sc: error: unknown option --quite for `ml2sc run` (hint: did you mean --quiet? `ml2sc run --help` lists its options)')
    expect(await oneLine(['inspect', cfg, '--input-shap', '1,2'])).toMatch(/unknown option --input-shap for `ml2sc inspect` \(hint: did you mean --input-shape\?/)
    // --tx is predict's and run's, not verify's
    expect(await oneLine(['verify', cfg, '--tx'])).toBe('ml2sc: error: unknown option --tx for `ml2sc verify` (hint: `ml2sc verify --help` lists its options)')
    expect(await oneLine(['predict', cfg, '--inptu', 'rows.csv'])).toMatch(/`ml2sc predict` needs --input \(hint: --inptu is not an option: did you mean --input\?/)
    // a typo of another option, while a required one is missing: both are said
    expect(await oneLine(['predict', cfg, '--ofchain'])).toMatch(/`ml2sc predict` needs --input \(hint: --ofchain is not an option: did you mean --offchain\?/)
    expect(await oneLine(['predict', cfg, '--zzzz'])).toMatch(/`ml2sc predict` needs --input \(hint: --zzzz is not an option either; `ml2sc predict --help`/)
    expect(await oneLine(['run', cfg, 'extra'])).toMatch(/unexpected argument 'extra' for `ml2sc run`/)
  })
})

test('the command is the first word that is not an option or the value of --out', async () => {
  const cfg = bcProject()
  const dir = path.dirname(cfg)
  const r = await runCli(['generate', cfg, '--out', 'run', '--quiet'], { cwd: dir })
  expect([r.code, r.stderr]).toEqual([0, ''])
  expect(readFileSync(path.join(dir, 'run', 'plan.json'), 'utf8')).toContain('"kind": "ml2sc/plan"')
}, 900_000) // one generate: seconds, more on a busy machine

describe('help', () => {
  test('the top-level help speaks of networks, not only MLPs, and lists schema', async () => {
    const r = await runCli(['--help'])
    expect(r.stdout).not.toMatch(/PyTorch MLP/)
    expect(r.stdout).toMatch(/PyTorch network \(MLP, CNN, GRU\/LSTM or attention; residuals, concats, heads\)/)
    expect(r.stdout).toMatch(/ml2sc schema\s+Print the config's JSON Schema/)
  })

  test('every example command is printed whole, on one line, under every command', async () => {
    const helps = await Promise.all(commands.map(async (c) => [c.command.split(' ')[0]!, (await runCli([c.command.split(' ')[0]!, '--help'])).stdout] as const))
    let examples = 0
    for (const [name, text] of helps) {
      const lines = text.split('\n')
      const at = lines.indexOf('Examples:')
      expect([name, at > 0]).toEqual([name, true])
      // a command line at 2 spaces, its description at 6: nothing else (a wrapped command would leave its tail at 2)
      const rest = lines.slice(at + 1).filter((l) => l.trim() !== '')
      for (const l of rest) expect([name, l]).toEqual([name, expect.stringMatching(/^( {2}(\w+=\S+ )?ml2sc [a-z]| {6}\S)/)])
      const listed = rest.filter((l) => /^ {2}\S/.test(l))
      expect([name, listed.some((l) => l.includes(`ml2sc ${name}`))]).toEqual([name, true])
      examples += listed.length
    }
    expect(examples).toBeGreaterThan(commands.length)
    const verify = helps.find(([n]) => n === 'verify')![1]
    expect(verify).toContain('\n  ml2sc verify ml2sc.yaml --address 0x… --rpc https://… --owner 0x…\n')
  })
})

describe('ml2sc schema', () => {
  test('prints the schema the config is validated against, and error hints cite it', async () => {
    const r = await runCli(['schema'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(readFileSync(path.join(ROOT, 'schemas/ml2sc.schema.json'), 'utf8')))
    const json = await runCli(['schema', '--json'])
    expect(JSON.parse(json.stdout).title).toBe('ml2sc.yaml')
    const bad = await runCli(['run', bcProject('weights:\n  layout: nope\n')])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('`ml2sc schema` prints the JSON Schema')
    expect(bad.stderr).not.toContain('schemas/ml2sc.schema.json')
  })

  test("the example config's layout comment says what auto does: small models in the code, no upload", () => {
    const line = readFileSync(path.join(ROOT, 'ml2sc.yaml.example'), 'utf8').split('\n').find((l) => /^\s+layout:/.test(l))!
    expect(line).toMatch(/layout: auto\s+# small models: weights in the contract's code \(no upload\); larger: SSTORE2 data contracts/)
  })
})

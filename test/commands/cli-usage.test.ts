// What the CLI says when it is used wrong or in its way, through src/cli.ts in this process (helpers/cliInProcess.ts).
// One file (one bun process and module load) for what were five: cli-usage, cli-polish, json-errors,
// output-file-in-the-way and e2e/cli-errors, each test as it was there.
//
// The command line in ml2sc's own words: an unknown command names the closest one, a missing config says
// what `run` needs, an unknown option gets a did-you-mean, help examples are never wrapped mid-command,
// and `ml2sc schema` prints the config's JSON Schema (which error hints cite instead of a repo path).
// src/cli.ts runs in the test's process (helpers/cliInProcess.ts): the words, exit codes and help are its own.
//
// Newcomer polish of the command line: `run` says anvil is missing before compiling anything, and --yes
// is offered (and accepted) only by the commands that can spend money.
//
// With --json a failure is one JSON object on stdout, {"error", "where", "hint"}, as well as the one line
// on stderr, and the exit code is still non-zero: a script reading stdout always gets JSON.
//
// Issue 19: a FILE where the output folder goes (e.g. `out`) is one line naming the path, with a hint, exit 1,
// no stack trace, and nothing written; before, `run` and `generate` said "internal error: EEXIST …".
//
// Bad config, missing files and bad CSV cells: one clear line on stderr, a non-zero exit, no stack trace.
import { describe, expect, test } from 'bun:test'
import path from 'node:path'
import { readFileSync, existsSync, readdirSync, cpSync, mkdtempSync, writeFileSync, copyFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
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

describe('run without anvil', () => {
  test('fails first, in one line, with nothing generated or compiled', async () => {
    const cfg = bcProject()
    const r = await runCli(['run', cfg], { env: { ANVIL_BIN: '/nonexistent/anvil' } })
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('ml2sc: error'))).toEqual([expect.stringMatching(/ANVIL_BIN: ANVIL_BIN points to \/nonexistent\/anvil, which is not a file/)])
    const out = path.join(path.dirname(cfg), 'out')
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([])
  })

  test('with chain.rpcUrl no anvil is needed, so none is looked for', async () => {
    const cfg = bcProject('chain:\n  rpcUrl: http://127.0.0.1:1\n')
    const r = await runCli(['run', cfg, '--yes'], { env: { ANVIL_BIN: '/nonexistent/anvil', ML2SC_PRIVATE_KEY: '0x' + '11'.repeat(32) } })
    expect(r.code).toBe(1)
    expect(r.stderr).not.toContain('ANVIL_BIN')
    expect(r.stderr).toMatch(/cannot reach the RPC/)
  })
})

describe('--yes only where it means something', () => {
  const spending = ['run', 'deploy', 'upload', 'evaluate', 'update', 'predict']
  const free = ['init', 'inspect', 'generate', 'compile', 'report', 'verify', 'gas']

  test('in --help of the commands that can send paid transactions, and nowhere else', async () => {
    const helps = await Promise.all([...spending, ...free].map(async (c) => [c, (await runCli([c, '--help'])).stdout] as const))
    for (const [c, text] of helps) expect([c, /--yes\b/.test(text)]).toEqual([c, spending.includes(c)])
    expect((await runCli(['--help'])).stdout).not.toMatch(/--yes\b/)
  })

  test('given to a command that cannot spend, it is an unknown argument', async () => {
    const r = await runCli(['verify', bcProject(), '--yes'])
    expect(r.code).toBe(1)
    expect(r.stderr.trim()).toMatch(/^ml2sc: error: unknown option --yes for `ml2sc verify`/)
  })
})

test('--json errors: a missing config, a bad command line, no command', async () => {
  const missing = await runCli(['predict', 'nope.yaml', '--input', 'rows.csv', '--json'])
  expect(missing.code).toBe(1)
  expect(JSON.parse(missing.stdout)).toEqual({ error: 'config file not found', where: 'nope.yaml', hint: 'create one with `ml2sc init`' })
  expect(missing.stderr).toMatch(/^ml2sc: error: nope\.yaml: config file not found/)

  const unknown = await runCli(['report', 'x.yaml', '--no-such-flag', '--json'])
  expect(unknown.code).toBe(1)
  const u = JSON.parse(unknown.stdout)
  expect(u.error).toMatch(/unknown option --no-such-flag/i)
  expect(u.where).toBeNull()
  expect(u.hint).toContain('--help')

  const none = await runCli(['--json'])
  expect(none.code).toBe(1)
  expect(JSON.parse(none.stdout)).toMatchObject({ error: 'no command given', where: null })
  expect(none.stdout.trim().split('\n')).toHaveLength(1)
})

/** A copy of examples/iris (a 4-16-3 MLP) with a file named `out` beside its config. */
function irisWithOutFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-out-file-'))
  cpSync(path.join(ROOT, 'examples/iris'), dir, { recursive: true })
  writeFileSync(path.join(dir, 'out'), 'not a folder\n')
  return dir
}

function expectOneLine(r: { code: number; stderr: string }, blocker: string) {
  expect(r.code).toBe(1)
  const lines = r.stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toContain(`${blocker} is a file, not a folder`)
  expect(lines[0]).toContain('--out')
  expect(r.stderr).not.toContain('internal error')
  expect(r.stderr).not.toMatch(/\n\s+at /)
}

describe('a file where the output folder goes', () => {
  for (const command of ['run', 'generate', 'compile']) {
    test(`${command}: one line naming the file, nothing written`, async () => {
      const dir = irisWithOutFile()
      const before = readdirSync(dir).sort()
      const r = await runCli([command, 'ml2sc.yaml'], { cwd: dir })
      expectOneLine(r, path.join(dir, 'out'))
      expect(readdirSync(dir).sort()).toEqual(before)
      expect(readFileSync(path.join(dir, 'out'), 'utf8')).toBe('not a folder\n')
    }, 300_000)
  }

  test('--out under a file: the file is named (ENOTDIR before)', async () => {
    const dir = irisWithOutFile()
    const r = await runCli(['generate', 'ml2sc.yaml', '--out', 'out/sub'], { cwd: dir })
    expectOneLine(r, path.join(dir, 'out'))
    expect(r.stderr).toMatch(/^ml2sc: error: --out:/)
  }, 300_000)

  test('inspect writes nothing there and still works', async () => {
    const dir = irisWithOutFile()
    const r = await runCli(['inspect', 'ml2sc.yaml'], { cwd: dir })
    expect(r.code).toBe(0)
  }, 300_000)

  test('init: --out naming a file, and a config under a file, are refused before writing', async () => {
    const dir = irisWithOutFile()
    const before = readdirSync(dir).sort()
    const a = await runCli(['init', 'weights.json', '--config', 'new.yaml', '--out', 'out'], { cwd: dir })
    expectOneLine(a, path.join(dir, 'out'))
    const b = await runCli(['init', 'weights.json', '--config', 'out/ml2sc.yaml'], { cwd: dir })
    expect(b.code).toBe(1)
    expect(b.stderr.trim().split('\n')).toHaveLength(1)
    expect(b.stderr).toContain(`${path.join(dir, 'out')} is a file, not a folder`)
    expect(b.stderr).toContain('--config')
    expect(readdirSync(dir).sort()).toEqual(before)
  }, 300_000)
})

function project(yaml: string, files: Record<string, string> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-bad-'))
  copyFileSync(path.join(ROOT, 'examples/breast-cancer/model.onnx'), path.join(dir, 'model.onnx'))
  copyFileSync(path.join(ROOT, 'examples/breast-cancer/test.csv'), path.join(dir, 'test.csv'))
  for (const [f, t] of Object.entries(files)) writeFileSync(path.join(dir, f), t)
  writeFileSync(path.join(dir, 'ml2sc.yaml'), yaml)
  return path.join(dir, 'ml2sc.yaml')
}

async function expectOneErrorLine(args: string[], pattern: RegExp) {
  const r = await runCli(args)
  expect(r.code).not.toBe(0)
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('ml2sc: error'))
  expect(lines.length).toBe(1)
  expect(lines[0]).toMatch(pattern)
  expect(r.stderr).not.toMatch(/\n\s+at .*\.ts:\d+/) // no stack trace
  return r
}

describe('ml2sc run: bad input', () => {
  test('a typo in a key names the key and suggests the right one', async () => {
    await expectOneErrorLine(['run', project('model:\n  pth: model.onnx\ndata:\n  test: test.csv\n')], /model\.pth.*did you mean 'path'/)
  })
  test('a missing model file names the key and the path', async () => {
    await expectOneErrorLine(['run', project('model:\n  path: nope.onnx\ndata:\n  test: test.csv\n')], /model\.path.*nope\.onnx/)
  })
  test('a missing config file', async () => {
    await expectOneErrorLine(['run', '/nonexistent/ml2sc.yaml'], /ml2sc\.yaml/)
  })
  test('a non-numeric CSV cell names the row and the column', async () => {
    const head = Array.from({ length: 30 }, (_, i) => `f${i}`).join(',') + ',label'
    const ok = new Array(30).fill('0.5').join(',') + ',0'
    const bad = ['0.5', 'abc', ...new Array(28).fill('0.5')].join(',') + ',1'
    const csv = `${head}\n${ok}\n${bad}\n`
    const yaml = project('model:\n  path: model.onnx\ndata:\n  test: bad.csv\n', { 'bad.csv': csv })
    await expectOneErrorLine(['run', yaml], /row 1.*column 'f1'.*'abc'/)
  })
  test('a CSV whose feature count does not match the model', async () => {
    const yaml = project('model:\n  path: model.onnx\ndata:\n  test: small.csv\n', { 'small.csv': 'a,b,label\n1,2,0\n' })
    await expectOneErrorLine(['run', yaml], /30/)
  })
  test('YAML syntax errors give the line', async () => {
    await expectOneErrorLine(['run', project('model: [unclosed\n')], /ml2sc\.yaml:\d+/)
  })
  test('an unknown command', async () => {
    await expectOneErrorLine(['frobnicate'], /Unknown|command/i)
  })
})

// The bad-input corpus: every case runs the CLI (two as `bin/ml2sc` processes, a missing config and an unknown
// flag, so that the launcher's own exit path is covered; the rest through src/cli.ts in this process: the same
// parsing, error report and exit code, without a bun start-up each) and must end with exactly one
// `ml2sc: error:` line that names what is wrong, a non-zero exit, no stack trace, and no result presented
// as complete (no report in the output folder; nothing deployed when the input was bad before the chain).
// The cases run in parallel (a few at a time, through a small queue), each test awaiting its own: a slow
// machine slows the tests down but never turns them into one unnamed setup failure.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { FIXTURES, ROOT, runCli } from '../helpers/paths.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { randomProject, startRemoteAnvil, type RemoteAnvil } from '../chain/helpers.ts'

type Result = Awaited<ReturnType<typeof runCli>> & { out: string; before?: Record<string, string> }
const snapshotDir = (dir: string) => Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(path.join(dir, f), 'latin1')]))
type Case = {
  name: string
  /** The error line must match this. */
  error: RegExp
  /** Builds the project and returns the CLI arguments (and environment). */
  setup: () => { args: string[]; env?: Record<string, string>; out: string } | Promise<{ args: string[]; env?: Record<string, string>; out: string }>
  /** The failure happens before anything is deployed: no deployment.json either. */
  beforeChain?: boolean
  /** The output folder holds an earlier successful run: its files must come out of the failure unchanged. */
  existing?: boolean
  /** Run as a separate `bin/ml2sc` process; the other cases run src/cli.ts in this process (same parsing, report and exit code). */
  process?: boolean
}

const BC = path.join(ROOT, 'examples/breast-cancer')
const HEAD30 = [...Array.from({ length: 30 }, (_, i) => `f${i}`), 'label'].join(',')
const ROW30 = (v = '0.5', label = '0') => [...new Array(30).fill(v), label].join(',')

/** A project: the breast-cancer model (ONNX, 30 inputs) and test set, plus `files`, and `yaml` as the config. */
function project(yaml: string, files: Record<string, string | Buffer> = {}, copy: Record<string, string> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-corpus-'))
  copyFileSync(path.join(BC, 'model.onnx'), path.join(dir, 'model.onnx'))
  copyFileSync(path.join(BC, 'test.csv'), path.join(dir, 'test.csv'))
  for (const [to, from] of Object.entries(copy)) copyFileSync(from, path.join(dir, to))
  for (const [f, t] of Object.entries(files)) writeFileSync(path.join(dir, f), t)
  writeFileSync(path.join(dir, 'ml2sc.yaml'), yaml)
  return { config: path.join(dir, 'ml2sc.yaml'), out: path.join(dir, 'out') }
}
const run = (yaml: string, files: Record<string, string | Buffer> = {}, copy: Record<string, string> = {}, extra: string[] = []) => {
  const p = project(yaml, files, copy)
  return { args: ['run', p.config, ...extra], out: p.out }
}
const onnxRun = (data = 'data:\n  test: test.csv\n') => `model:\n  path: model.onnx\n${data}`
const csvRun = (csv: string, data = '') => run(`model:\n  path: model.onnx\ndata:\n  test: bad.csv\n${data}`, { 'bad.csv': csv })
const iris = (f: string) => path.join(FIXTURES, 'iris_logits', f)

let remote: RemoteAnvil
const NO_KEY = { ML2SC_PRIVATE_KEY: '' }

const cases: Case[] = [
  // ── the config file ────────────────────────────────────────────────────────────────────────────────
  { name: 'config: YAML syntax error (unclosed flow list) gives file:line', beforeChain: true, error: /ml2sc\.yaml:\d+:\d+: YAML syntax error/, setup: () => run('model: [unclosed\n') },
  { name: 'config: a tab-indented line', beforeChain: true, error: /ml2sc\.yaml:\d+.*YAML syntax error/, setup: () => run('model:\n\tpath: model.onnx\n') },
  { name: 'config: a key written twice', beforeChain: true, error: /ml2sc\.yaml:\d+.*YAML syntax error.*(unique|duplicate)/i, setup: () => run('model:\n  path: model.onnx\n  path: other.onnx\n') },
  { name: 'config: an empty file', beforeChain: true, error: /the config is empty/, setup: () => run('') },
  { name: 'config: a list instead of a mapping', beforeChain: true, error: /must be a mapping/, setup: () => run('- model\n- data\n') },
  { name: 'config: misspelt section (modle)', beforeChain: true, error: /modle: unknown key \(did you mean 'model'\?\)/, setup: () => run('modle:\n  path: model.onnx\n') },
  { name: 'config: misspelt key (model.pth)', beforeChain: true, error: /model\.pth: unknown key \(did you mean 'path'\?\)/, setup: () => run('model:\n  pth: model.onnx\ndata:\n  test: test.csv\n') },
  { name: 'config: a key in the wrong section (label at top level)', beforeChain: true, error: /label: unknown key \(did you mean 'data\.label'\?\)/, setup: () => run(onnxRun() + 'label: y\n') },
  { name: 'config: wrong type (batch.rows: many)', beforeChain: true, error: /batch\.rows: must be an integer ≥ 1 or "auto"/, setup: () => run(onnxRun() + 'batch:\n  rows: many\n') },
  { name: 'config: out of range (precision.fraction: 99)', beforeChain: true, error: /precision\.fraction: must be an integer from 4 to 64/, setup: () => run(onnxRun() + 'precision:\n  fraction: 99\n') },
  { name: 'config: not one of the choices (weights.layout)', beforeChain: true, error: /weights\.layout: must be one of auto, datacontract/, setup: () => run(onnxRun() + 'weights:\n  layout: sideways\n') },
  { name: 'config: model.path missing', beforeChain: true, error: /model\.path: required/, setup: () => run('model:\n  layers: [linear]\n') },
  { name: 'config: a private key in the file is refused', beforeChain: true, error: /chain\.privateKey: private keys must not be written in the config.*ML2SC_PRIVATE_KEY/, setup: () => run(onnxRun() + 'chain:\n  privateKey: "0x' + '11'.repeat(32) + '"\n') },
  { name: 'config: rpcUrl and fork together', beforeChain: true, error: /chain: set either rpcUrl or fork, not both/, setup: () => run(onnxRun() + 'chain:\n  rpcUrl: http://127.0.0.1:1\n  fork: http://127.0.0.1:2\n') },
  { name: 'config: an RPC URL that is not http(s)', beforeChain: true, error: /chain\.rpcUrl: must be an http:\/\/ or https:\/\/ URL/, setup: () => run(onnxRun() + 'chain:\n  rpcUrl: ftp://example.org\n') },
  { name: 'config: the config file does not exist', process: true, beforeChain: true, error: /nope\.yaml: config file not found/, setup: () => ({ args: ['run', '/nonexistent/nope.yaml'], out: '/nonexistent/out' }) },

  // ── the model ──────────────────────────────────────────────────────────────────────────────────────
  { name: 'model: the file does not exist', beforeChain: true, error: /model\.path: .*nope\.onnx does not exist/, setup: () => run('model:\n  path: nope.onnx\ndata:\n  test: test.csv\n') },
  { name: 'model: a corrupt ONNX file', beforeChain: true, error: /broken\.onnx.*(corrupt|truncated|not an ONNX|protobuf)/i, setup: () => run('model:\n  path: broken.onnx\ndata:\n  test: test.csv\n', { 'broken.onnx': Buffer.from('this is not a protobuf at all \x00\x01\x02\xff\xfe'.repeat(3)) }) },
  { name: 'model: a truncated ONNX file', beforeChain: true, error: /cut\.onnx.*(truncated|corrupt)/i, setup: () => run('model:\n  path: cut.onnx\ndata:\n  test: test.csv\n', { 'cut.onnx': readFileSync(path.join(BC, 'model.onnx')).subarray(0, 700) }) },
  { name: 'model: a truncated .pt file', beforeChain: true, error: /truncated\.pt.*(truncated|corrupt|zip)/i, setup: () => run('model:\n  path: truncated.pt\n  layers: [linear, relu, linear]\ndata:\n  test: test.csv\n', {}, { 'truncated.pt': path.join(FIXTURES, 'special/truncated.pt') }) },
  { name: 'model: a malicious pickle is refused, naming the global', beforeChain: true, error: /malicious\.pt.*(refus|not allowed|allowlist).*(posix|os|system)/i, setup: () => run('model:\n  path: malicious.pt\n  layers: [linear]\ndata:\n  test: test.csv\n', {}, { 'malicious.pt': path.join(FIXTURES, 'special/malicious.pt') }) },
  { name: 'model: an unsupported layer (a GRU inside an nn.Sequential)', beforeChain: true, error: /gru\.whole\.pt.*GRU 'rnn' inside an nn\.Sequential/, setup: () => run('model:\n  path: gru.whole.pt\ndata:\n  test: test.csv\n', {}, { 'gru.whole.pt': path.join(FIXTURES, 'special/gru.whole.pt') }) },
  { name: 'model: a convolutional state_dict without model.inputShape', beforeChain: true, error: /model\.state_dict\.pt: the model has convolution\/pooling layers but its input shape is not known.*model\.inputShape/, setup: () => run('model:\n  path: model.state_dict.pt\n  source: model.py\ndata:\n  test: test.csv\n', {}, { 'model.state_dict.pt': path.join(FIXTURES, 'cnn_digits8/model.state_dict.pt'), 'model.py': path.join(FIXTURES, 'cnn_digits8/model.py'), 'test.csv': path.join(FIXTURES, 'cnn_digits8/test.csv') }) },
  { name: 'model: an unknown layer name in model.layers', beforeChain: true, error: /model\.layers.*conv2d/, setup: () => run('model:\n  path: w.json\n  layers: [linear, conv2d, linear]\ndata:\n  test: test.csv\n', {}, { 'w.json': iris('weights.json') }) },
  { name: 'model: model.layers does not match the weights (3 linear layers for 2)', beforeChain: true, error: /(layer|linear).*(2|two|3|three)/i, setup: () => run('model:\n  path: w.json\n  layers: [linear, relu, linear, relu, linear]\ndata:\n  test: test.csv\n', {}, { 'w.json': iris('weights.json') }) },
  { name: 'model: shapes that do not chain (fc2 takes 5 inputs, fc1 gives 16)', beforeChain: true, error: /(shape|input|5|16)/i, setup: () => {
      const w = JSON.parse(readFileSync(iris('weights.json'), 'utf8'))
      w['fc2.weight'] = w['fc2.weight'].map((r: number[]) => r.slice(0, 5))
      return run('model:\n  path: w.json\n  layers: [linear, relu, linear]\ndata:\n  test: test.csv\n', { 'w.json': JSON.stringify(w) })
    } },
  { name: 'model: a weights JSON that is not JSON', beforeChain: true, error: /w\.json.*(JSON|parse)/i, setup: () => run('model:\n  path: w.json\n  layers: [linear]\ndata:\n  test: test.csv\n', { 'w.json': '{"fc1.weight": [[1, 2], [3' }) },
  { name: 'model: an nn.Module source with an unsupported construct', beforeChain: true, error: /net\.py: unsupported construct 'nn\.Bilinear\(4, 4, 2\)' at net\.py:5/, setup: () =>
      run('model:\n  path: w.json\n  source: net.py\ndata:\n  test: test.csv\n', {
        'net.py': 'import torch.nn as nn\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.bil = nn.Bilinear(4, 4, 2)\n    def forward(self, x):\n        return self.bil(x, x)\n',
      }, { 'w.json': iris('weights.json') }) },

  // ── the test CSV ───────────────────────────────────────────────────────────────────────────────────
  { name: 'csv: the label column is missing', beforeChain: true, error: /bad\.csv:1: .*no label column 'label'.*hint: set data\.label/, setup: () => csvRun(`${HEAD30.replace(',label', ',target')}\n${ROW30()}\n`) },
  { name: 'csv: a non-numeric cell names its row and column', beforeChain: true, error: /bad\.csv:4: row 2, column 'f7': 'n\/a' is not a number/, setup: () => csvRun(`${HEAD30}\n${ROW30()}\n${ROW30()}\n${ROW30().replace(/^((?:[^,]*,){7})[^,]*/, '$1n/a')}\n`) },
  { name: 'csv: an empty cell', beforeChain: true, error: /row 0, column 'f0' is empty/, setup: () => csvRun(`${HEAD30}\n${ROW30().replace(/^0\.5/, '')}\n`) },
  { name: 'csv: a ragged row', beforeChain: true, error: /bad\.csv:3: row 1 has 29 cells, but the header has 31 columns/, setup: () => csvRun(`${HEAD30}\n${ROW30()}\n${ROW30().split(',').slice(2).join(',')}\n`) },
  { name: 'csv: an empty file', beforeChain: true, error: /bad\.csv: the CSV file is empty/, setup: () => csvRun('') },
  { name: 'csv: a header and no rows', beforeChain: true, error: /bad\.csv:1: the CSV file has a header but no rows/, setup: () => csvRun(`${HEAD30}\n`) },
  { name: 'csv: fewer features than the model takes', beforeChain: true, error: /bad\.csv:1: 3 feature columns, but the model takes 30 inputs/, setup: () => csvRun('a,b,c,label\n1,2,3,0\n') },
  { name: 'csv: more features than the model takes', beforeChain: true, error: /32 feature columns, but the model takes 30 inputs.*data\.drop/, setup: () => csvRun(`x,y,${HEAD30}\n1,2,${ROW30()}\n`) },
  { name: 'csv: data.drop names a column that does not exist', beforeChain: true, error: /data\.drop names 'idd', which is not a column/, setup: () => csvRun(`id,${HEAD30}\n1,${ROW30()}\n`, '  drop: [idd]\n') },
  { name: 'csv: an unterminated quoted field', beforeChain: true, error: /bad\.csv:3: unterminated quoted field/, setup: () => csvRun(`${HEAD30}\n${ROW30()}\n"0.5,${ROW30().slice(4)}\n`) },
  { name: 'csv: the file does not exist', beforeChain: true, error: /data\.test: .*missing\.csv does not exist/, setup: () => run('model:\n  path: model.onnx\ndata:\n  test: missing.csv\n') },

  { name: "csv: a ';'-separated file", beforeChain: true, error: /bad\.csv:1: the CSV is separated by semicolons \(;\), not commas/, setup: () => csvRun(`${HEAD30.replaceAll(',', ';')}\n${ROW30().replaceAll(',', ';')}\n`) },
  { name: 'csv: text labels without data.classes', beforeChain: true, error: /'benign' is not a number.*data\.classes/, setup: () => csvRun(`${HEAD30}\n${ROW30('0.5', 'benign')}\n`) },
  { name: 'data.classes: three names for a binary model', beforeChain: true, error: /data\.classes: data\.classes names 3 classes, but the model has 2/, setup: () => csvRun(`${HEAD30}\n${ROW30('0.5', 'a')}\n`, '  classes: [a, b, c]\n') },
  { name: 'data.reference: a row fewer than the test CSV', beforeChain: true, error: /data\.reference \(.*short\.csv\): the reference has 49 rows, but the test CSV has 50/, setup: () => run(`${onnxRun('data:\n  test: test.csv\n  reference: short.csv\n')}`, { 'short.csv': readFileSync(path.join(BC, 'reference.csv'), 'utf8').trim().split('\n').slice(0, -1).join('\n') + '\n' }) },
  { name: 'data.reference: two columns for a one-output model', beforeChain: true, error: /the reference has 2 values on this line, but the model has 1 output/, setup: () => run(`${onnxRun('data:\n  test: test.csv\n  reference: two.csv\n')}`, { 'two.csv': '0.1,0.9\n' }) },
  // ── the chain ──────────────────────────────────────────────────────────────────────────────────────
  { name: 'chain: an unreachable RPC', beforeChain: true, error: /chain\.rpcUrl: cannot reach the RPC at http:\/\/127\.0\.0\.1:1/, setup: () => run(onnxRun() + 'chain:\n  rpcUrl: http://127.0.0.1:1\n', {}, {}, ['--yes']) },
  { name: 'chain: the wrong chain id', beforeChain: true, error: /chain\.chainId: the RPC reports chain id 31338, but the config expects 1\b/, setup: () => run(onnxRun() + `chain:\n  rpcUrl: ${remote.url}\n  chainId: 1\n`, {}, {}, ['--yes']) },
  { name: 'chain: no signing key for an RPC chain', beforeChain: true, error: /ML2SC_PRIVATE_KEY: no signing key/, setup: () => ({ ...run(onnxRun() + `chain:\n  rpcUrl: ${remote.url}\n`, {}, {}, ['--yes']), env: NO_KEY }) },
  { name: 'chain: a malformed signing key', beforeChain: true, error: /ML2SC_PRIVATE_KEY: ML2SC_PRIVATE_KEY is not a valid private key/, setup: () => ({ ...run(onnxRun() + `chain:\n  rpcUrl: ${remote.url}\n`, {}, {}, ['--yes']), env: { ML2SC_PRIVATE_KEY: '0x1234' } }) },
  { name: 'chain: spending on a non-local chain without --yes', beforeChain: true, error: /not a local chain: spending ≈ .* ETH needs --yes/, setup: () => ({ ...run(onnxRun() + `chain:\n  rpcUrl: ${remote.url}\n`), env: { ML2SC_PRIVATE_KEY: remote.keys[0]! } }) },
  { name: 'chain: insufficient funds', beforeChain: true, error: /insufficient funds: 0x[0-9a-fA-F]{40} holds 0 ETH/, setup: () => ({ ...run(onnxRun() + `chain:\n  rpcUrl: ${remote.url}\n`, {}, {}, ['--yes']), env: { ML2SC_PRIVATE_KEY: '0x' + '77'.repeat(32) } }) },
  {
    name: 'chain: a reverted transaction (a stranger writes weights: NotOwner)',
    existing: true,
    error: /upload chunk 1\/\d+ reverted: NotOwner\(0x[0-9a-fA-F]{40}\).*hint: only the contract's owner/,
    setup: async () => {
      const deployed = await deployment()
      return { args: ['update', deployed.config, '--yes'], out: deployed.out, env: { ML2SC_PRIVATE_KEY: remote.keys[5]! } }
    },
  },
  { name: 'chain: the deploy is over the per-transaction cap (chain.txGasCap)', beforeChain: true, error: /chain\.txGasCap: deploy( the ml2sc admin library)? needs [\d,]+ gas, over the per-transaction cap of 100,000.*hint: raise chain\.txGasCap/, setup: () => run(onnxRun() + 'chain:\n  txGasCap: 100000\n') },
  { name: 'chain: a batch over the calldata a node accepts (batch.rows huge)', beforeChain: true, error: /batch\.rows: batch\.rows 100000 makes [\d,]+ bytes of calldata per transaction, over the 96,000/, setup: () => run(onnxRun() + 'batch:\n  rows: 100000\n') },
  {
    name: 'chain: a batch over the per-transaction gas cap (batch.rows on a big model)',
    beforeChain: true,
    error: /batch\.rows: batch\.rows 300 needs about [\d,]+ gas per evaluation transaction, over the per-transaction cap of 16,777,216/,
    setup: () => {
      const p = randomProject({ sizes: [64, 128, 10], rows: 4, seed: 9, yaml: 'batch:\n  rows: 300\n' })
      return { args: ['run', p.config], out: p.out }
    },
  },
  { name: 'verify: no deployment in the output folder', beforeChain: true, error: /out\/deployment\.json: no deployment\.json: nothing is deployed from this output folder/, setup: () => {
      const p = project(onnxRun())
      return { args: ['verify', p.config], out: p.out }
    } },
  { name: 'cli: an unknown flag', process: true, beforeChain: true, error: /Unknown argument|unknown/i, setup: () => ({ ...run(onnxRun(), {}, {}, ['--frobnicate']) }) },
]

/** A real deployment on the "remote" node for the reverted-transaction case, then a changed weight: made once, when first needed. */
let deploying: Promise<ReturnType<typeof randomProject>> | undefined
const deployment = () =>
  (deploying ??= (async () => {
    const deployed = randomProject({ sizes: [16, 24, 3], rows: 4, seed: 4, yaml: `chain:\n  rpcUrl: ${remote.url}\n` })
    const d = await runCliInProcess(['run', deployed.config, '--yes', '--quiet'], { env: { ML2SC_PRIVATE_KEY: remote.keys[0]! } })
    if (d.code !== 0) throw new Error(`setup deployment failed: ${d.stderr}`)
    const w = JSON.parse(readFileSync(deployed.weights, 'utf8'))
    w['fc2.weight'][0][0] *= 0.98 // a small change that keeps the layer scales (an update, not a new contract)
    writeFileSync(deployed.weights, JSON.stringify(w))
    return deployed
  })())

/** At most this many CLI processes at once (the machine has 2 cores); each case's result, started on first request. */
const PARALLEL = 4
let running = 0
const waiting: (() => void)[] = []
const results = new Map<string, Promise<Result>>()
function resultOf(c: Case): Promise<Result> {
  let r = results.get(c.name)
  if (!r) {
    r = (async () => {
      if (running >= PARALLEL) await new Promise<void>((go) => waiting.push(go))
      running++
      try {
        const { args, env, out } = await c.setup()
        const before = c.existing ? snapshotDir(out) : undefined
        const res = await (c.process ? runCli : runCliInProcess)(args, { env: { ML2SC_PRIVATE_KEY: '', ...(env ?? {}) } })
        return { ...res, out, before }
      } finally {
        running--
        waiting.shift()?.()
      }
    })()
    results.set(c.name, r)
  }
  return r
}

beforeAll(async () => {
  remote = await startRemoteAnvil()
  // queue every case now (PARALLEL at a time); each test below awaits its own
  for (const c of cases) resultOf(c).catch(() => {})
})
afterAll(async () => await remote?.stop())

const REPORTS = ['report.json', 'report.md', 'report.html', 'predictions.csv', 'evaluation.json']

describe('bad input: one clear line, a non-zero exit, no stack trace, no result presented as complete', () => {
  test('the corpus has at least 30 cases', () => expect(cases.length).toBeGreaterThanOrEqual(30))
  for (const c of cases) {
    // the timeout covers the cases queued before this one (all of them on a machine 5× slower than this one)
    test(c.name, async () => {
      const r = await resultOf(c)
      expect(r).toBeDefined()
      expect(r.code).not.toBe(0)
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('ml2sc: error'))
      if (errors.length !== 1) console.error(r.stderr)
      expect(errors).toHaveLength(1)
      expect(errors[0]).toMatch(c.error)
      expect(r.stderr).not.toMatch(/internal error/)
      expect(r.stderr).not.toMatch(/\n\s+at .*\.[jt]s:\d+/) // no stack trace
      expect(r.stdout).toBe('')
      const files = existsSync(r.out) ? readdirSync(r.out) : []
      if (r.before) expect(snapshotDir(r.out)).toEqual(r.before) // the earlier run's record and reports untouched
      else for (const f of REPORTS) expect(files).not.toContain(f)
      if (c.beforeChain) for (const f of ['deployment.json', 'upload-state.json']) expect(files).not.toContain(f)
    }, 1_800_000)
  }
})

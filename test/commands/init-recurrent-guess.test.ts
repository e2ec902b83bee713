// `ml2sc init` where it must guess or refuse: one file (one bun process and module load) for what were two,
// init-recurrent-guess and init-refuses, each test as it was there (init-refuses' copy is copyFiles, its in-process runCli is runCliInProcess here).
//
// Issue 20 with the issue-19 rule: a GRU/LSTM file with no forward() and no source beside it (a whole .pt of a
// custom nn.Module, or a state_dict) gets a GUESSED chain from `ml2sc init`: the recurrent module read as its last
// time step's output (out[:, -1, :]) into the Linear layers in state_dict order. The fixtures whose forward() is
// that (gru_sine, gru2_sine's h[-1], lstm_cls's h[-1]) then equal PyTorch; one whose forward() is not (gru_bi_cls:
// cat(h[-2], h[-1])) is guessed and visibly wrong against data.reference; a model.py beside the file is never
// guessed past; the GUESSED mark and the readout assumed reach the config, report.json and the console.
//
// Issue 18: `ml2sc init` never ignores a source beside the weights. A model.py it cannot read (a residual
// MLP, an ELU MLP: held-out models trained by real PyTorch, test/fixtures/trust) is named with its line and
// construct, and nothing is guessed; guessing happens only when no source exists, and is then marked.
import { describe, expect, test } from 'bun:test'
import path from 'node:path'
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { readAllRows } from '../../src/data/readCsv.ts'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { initConfig, type InitResult } from '../../src/scaffold/initConfig.ts'
import { FIXTURES, runCli } from '../helpers/paths.ts'
import { Ml2scError } from '../../src/errors/base.ts'
import { readReference } from '../../src/data/readReference.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'

const SEQ = path.join(FIXTURES, 'seq')
/** A fixture's model file, test.csv and reference.csv in a fresh folder (model.py only when asked). */
function copy(name: string, file: string, extra: string[] = []): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-recguess-'))
  for (const f of [file, 'test.csv', 'reference.csv', ...extra]) copyFileSync(path.join(SEQ, name, f), path.join(dir, f))
  return dir
}
const torchOut = (dir: string) => readFileSync(path.join(dir, 'reference.csv'), 'utf8').trim().split('\n').map((l) => l.split(',').map(Number))
async function worstVsTorch(dir: string, file: string, layers: string[], inputShape: number[], label: string) {
  const model = await loadModel({ path: path.join(dir, file), layers, inputShape })
  const data = await readAllRows(path.join(dir, 'test.csv'), { label })
  const ref = torchOut(dir)
  let worst = 0
  data.features.forEach((x, i) => referenceForward(model, x).forEach((v, j) => (worst = Math.max(worst, Math.abs(v - ref[i]![j]!)))))
  return worst
}

describe('a GRU/LSTM with no source: a GUESSED chain', () => {
  const MATCHING = [
    { name: 'gru_sine', file: 'whole.pt', kind: 'gru', label: 'next', shape: [16, 1] },
    { name: 'gru2_sine', file: 'whole.pt', kind: 'gru', label: 'next', shape: [16, 1] },
    { name: 'lstm_cls', file: 'whole.pt', kind: 'lstm', label: 'label', shape: [10, 2] },
    { name: 'lstm_cls', file: 'state_dict.pt', kind: 'lstm', label: 'label', shape: [10, 2] },
  ]
  for (const c of MATCHING)
    test(`${c.name}/${c.file}: guessed [${c.kind}, linear] over [${c.shape}], marked GUESSED; its forward() is the guess: float = PyTorch within 1e-5`, async () => {
      const dir = copy(c.name, c.file)
      const r = await initConfig({ model: c.file }, dir)
      expect(r.architecture).toMatchObject({ how: 'layers', layers: [c.kind, 'linear'], inputShape: c.shape })
      expect(r.text).toMatch(new RegExp(`layers: \\[${c.kind}, linear\\]\\s+# GUESSED: ${c.kind.toUpperCase()} '\\w+' → its last time step's output \\(out\\[:, -1, :\\]\\)`))
      expect(r.text).toMatch(/guessed: true/)
      expect(r.warnings.join('\n')).toMatch(/is GUESSED from the tensor shapes .*assuming .*last time step's output.*model\.source \+ model\.class/)
      expect(await worstVsTorch(dir, c.file, [c.kind, 'linear'], c.shape, c.label)).toBeLessThan(1e-5)
    })

  test("gru_bi_cls/whole.pt (forward: cat(h[-2], h[-1])): guessed all the same, and PyTorch's outputs show it wrong", async () => {
    const dir = copy('gru_bi_cls', 'whole.pt')
    const r = await initConfig({ model: 'whole.pt' }, dir)
    expect(r.architecture).toMatchObject({ how: 'layers', layers: ['gru', 'linear'] })
    expect(r.text).toContain('reference: reference.csv')
    expect(await worstVsTorch(dir, 'whole.pt', ['gru', 'linear'], r.architecture.inputShape!, 'label')).toBeGreaterThan(1e-2)
  })

  test('lstm2_sine/whole.pt (forward: the whole sequence flattened): the guess does not fit the Linear, one line says what was guessed', async () => {
    const dir = copy('lstm2_sine', 'whole.pt')
    const err = await initConfig({ model: 'whole.pt' }, dir).then(() => undefined, (e: { shortMessage?: string }) => e.shortMessage)
    expect(err).toMatch(/^cannot guess how whole\.pt's LSTM 'lstm' feeds its Linear layers \(.*\); ml2sc guesses LSTM 'lstm' → its last time step's output/)
    expect(err).not.toContain('\n')
  })

  test('a model.py beside the whole .pt: read, never guessed past', async () => {
    const dir = copy('gru_bi_cls', 'whole.pt', ['model.py'])
    const r = await initConfig({ model: 'whole.pt' }, dir)
    expect(r.architecture.how).toBe('source')
    expect(r.text).not.toMatch(/guessed: true/)
  })

  test('gru_sine/whole.pt guessed → `ml2sc run`: on chain = simulator, PyTorch within 1e-4; GUESSED in report.json, report.md and on the console', async () => {
    const dir = copy('gru_sine', 'whole.pt')
    await initConfig({ model: 'whole.pt' }, dir)
    const cfg = path.join(dir, 'ml2sc.yaml')
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(/^data:\n/m, 'data:\n  limit: 8\n'))
    const out = path.join(dir, 'out')
    const r = await runCli(['run', cfg, '--out', out])
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'))
    expect(report.model.guessed).toBe(true)
    expect(report.warnings[0]).toMatch(/^architecture GUESSED: .*reading GRU 'gru' as its last time step's output \(out\[:, -1, :\]\) into the Linear layers; give model\.source \+ model\.class/)
    expect(report.simulator.mismatches).toBe(0)
    expect(report.error.maxAbs).toBeLessThan(1e-4)
    expect(readFileSync(path.join(out, 'report.md'), 'utf8')).toContain('Architecture GUESSED')
    expect(r.stdout + r.stderr).toContain('architecture GUESSED')
  }, 300_000)
})

const TRUST = path.join(FIXTURES, 'trust')
function copyFiles(from: string, files: string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-init-refuses-'))
  for (const f of files) copyFileSync(path.join(from, f), path.join(dir, f))
  return dir
}

async function tryInit(dir: string): Promise<{ result?: InitResult; error?: Ml2scError }> {
  try {
    return { result: await initConfig({ model: 'model.state_dict.pt' }, dir) }
  } catch (e) {
    if (!(e instanceof Ml2scError)) throw e
    return { error: e }
  }
}

/** The largest |float forward pass − PyTorch| over the fixture's test rows, and PyTorch's output range. */
async function distanceFromPyTorch(fixture: string, r: InitResult): Promise<{ maxAbs: number; range: number }> {
  const { features } = await readAllRows(path.join(TRUST, fixture, 'test.csv'), { label: 'label' })
  const torch = await readReference(path.join(TRUST, fixture, 'reference.csv'), 3)
  let maxAbs = 0
  features.forEach((f, i) => referenceForward(r.architecture.ir, f).forEach((y, j) => (maxAbs = Math.max(maxAbs, Math.abs(y - torch[i]![j]!)))))
  const all = torch.flat()
  return { maxAbs, range: Math.max(...all) - Math.min(...all) }
}

describe('a source beside the weights that ml2sc cannot read', () => {
  test('residual MLP (h = h + relu(fc2(relu(fc1(h))))): init now reads the skip connection (issue 19 D) and matches PyTorch within 1% of its range', async () => {
    const dir = copyFiles(path.join(TRUST, 'residual'), ['model.state_dict.pt', 'model.py', 'test.csv', 'reference.csv'])
    const { result, error } = await tryInit(dir)
    expect(error?.shortMessage).toBeUndefined()
    expect(result!.architecture.how).toBe('source')
    // the head reads the sum of fc_in's output (value 1) and fc2's (value 3); fc1 reads fc_in's output
    expect(result!.architecture.ir.layers.map((l) => [l.name, l.input ?? null])).toEqual([
      ['fc_in', null],
      ['fc1', null],
      ['fc2', null],
      ['out', { op: 'add', values: [1, 3] }],
    ])
    const d = await distanceFromPyTorch('residual', result!)
    // today's plain-chain guess was 8.6 away from PyTorch on a range of 55; the graph is float32-close
    expect(d.maxAbs).toBeLessThan(1e-4 * d.range)
    expect(existsSync(path.join(dir, 'ml2sc.yaml'))).toBe(true)
  })

  test('ELU MLP with its model.py: never read as ReLU (init refuses naming F.elu, or reads the ELU)', async () => {
    const dir = copyFiles(path.join(TRUST, 'elu'), ['model.state_dict.pt', 'model.py', 'test.csv', 'reference.csv'])
    const { result, error } = await tryInit(dir)
    if (result) {
      expect(result.architecture.how).toBe('source')
      expect(result.architecture.ir.layers.map((l) => l.activation.kind)).not.toContain('relu')
      const d = await distanceFromPyTorch('elu', result)
      expect(d.maxAbs).toBeLessThan(0.01 * d.range)
      return
    }
    expect(error!.shortMessage).toMatch(/unsupported construct 'F\.elu\(self\.fc\d\(x\)\)' at model\.py:1[34]/)
    expect(existsSync(path.join(dir, 'ml2sc.yaml'))).toBe(false)
  })

  test('CLI: exit 1, one line on stderr naming the file, line and construct, with the model.layers hint', async () => {
    const dir = copyFiles(path.join(FIXTURES, 'iris_logits'), ['model.state_dict.pt', 'test.csv'])
    // a construct no reader of ml2sc follows: an einsum in forward()
    writeFileSync(
      path.join(dir, 'model.py'),
      'import torch\nimport torch.nn as nn\n\n\nclass IrisNet(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc1 = nn.Linear(4, 16)\n        self.fc2 = nn.Linear(16, 3)\n\n    def forward(self, x):\n        x = torch.einsum("bi->bi", self.fc1(x))\n        return self.fc2(x)\n',
    )
    const r = await runCliInProcess(['init', 'model.state_dict.pt'], { cwd: dir })
    expect(r.code).toBe(1)
    const lines = r.stderr.trim().split('\n')
    expect(lines.length).toBe(1)
    expect(lines[0]).toMatch(/^ml2sc: error: .*model\.py: model\.py lies beside model\.state_dict\.pt but ml2sc cannot read it \(.*at model\.py:12\); init does not guess/)
    expect(lines[0]).toContain('einsum')
    expect(lines[0]).toContain('hint: write the config yourself with model.path and model.layers')
    expect(existsSync(path.join(dir, 'ml2sc.yaml'))).toBe(false)
  })

  test('a model.py with no nn.Module class is not skipped either', async () => {
    const dir = copyFiles(path.join(FIXTURES, 'iris_logits'), ['model.state_dict.pt'])
    writeFileSync(path.join(dir, 'model.py'), 'import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))\n')
    const { error } = await tryInit(dir)
    expect(error?.shortMessage).toContain('model.py defines no class X(nn.Module)')
  })

  test('no source at all: the guess is written with model.guessed: true (the reports say GUESSED)', async () => {
    const dir = copyFiles(path.join(TRUST, 'elu'), ['model.state_dict.pt', 'test.csv'])
    const { result } = await tryInit(dir)
    expect(result!.architecture.how).toBe('layers')
    expect(result!.text).toMatch(/\n  guessed: true\s+# GUESSED: no nn.Module source beside the model/)
    expect(result!.warnings.join('\n')).toContain('is GUESSED from the tensor shapes')
  })
})

// Issue 20 with the issue-19 rule: a GRU/LSTM file with no forward() and no source beside it (a whole .pt of a
// custom nn.Module, or a state_dict) gets a GUESSED chain from `ml2sc init`: the recurrent module read as its last
// time step's output (out[:, -1, :]) into the Linear layers in state_dict order. The fixtures whose forward() is
// that (gru_sine, gru2_sine's h[-1], lstm_cls's h[-1]) then equal PyTorch; one whose forward() is not (gru_bi_cls:
// cat(h[-2], h[-1])) is guessed and visibly wrong against data.reference; a model.py beside the file is never
// guessed past; the GUESSED mark and the readout assumed reach the config, report.json and the console.
import { describe, expect, test } from 'bun:test'
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { readAllRows } from '../../src/data/readCsv.ts'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { initConfig } from '../../src/scaffold/initConfig.ts'
import { FIXTURES, runCli } from '../helpers/paths.ts'

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

// Runs judged against PyTorch's outputs: the fidelity gate, and models with several outputs. One file (one bun
// process and module load) for what were two, fidelity-gate and multi-output, each test as it was there.
//
// Issue 18: a run far from PyTorch never says "agreement 100%" and exits 0. On a real anvil, as a newcomer
// runs it: a weights-only ELU MLP (real PyTorch, test/fixtures/trust/elu) with no source beside it is
// guessed as ReLU by init (marked GUESSED), every class still agrees, and `run` fails the fidelity gate with
// one line naming the worst row and output, after writing every report. A faithful run passes and its
// report names the rows `precision: auto` chose on.
//
// Issue 19, multi-output models on a real anvil: the two-head wine model (3-class logits + alcohol regression,
// scripts/make-heads-fixture.py) read from model.py + state_dict, data.label naming one column per head. Each
// head equals PyTorch within the tolerance on chain, report.json / predictions.csv / predict --json name each
// head, and a reference tampered on one head's output makes the run fail and claim no agreement.
import { describe, expect, test } from 'bun:test'
import path from 'node:path'
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { FIXTURES } from '../helpers/paths.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'

const TRUST = path.join(FIXTURES, 'trust')
function copy(fixture: string, files: string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), `ml2sc-gate-${fixture}-`))
  for (const f of files) copyFileSync(path.join(TRUST, fixture, f), path.join(dir, f))
  return dir
}
const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'))

describe('the fidelity gate on a real chain', () => {
  test('ELU MLP guessed as ReLU: exit 1, one line (row, output, both values, tolerance), every report written, GUESSED and the calibration rows stated', async () => {
    const dir = copy('elu', ['model.state_dict.pt', 'test.csv', 'reference.csv'])
    const init = await runCliInProcess(['init', 'model.state_dict.pt'], { cwd: dir })
    expect(init.code).toBe(0)
    expect(readFileSync(path.join(dir, 'ml2sc.yaml'), 'utf8')).toContain('guessed: true')

    const r = await runCliInProcess(['run', 'ml2sc.yaml'], { cwd: dir })
    expect(r.code).toBe(1)
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('ml2sc: error:'))
    expect(errors.length).toBe(1)
    const m = errors[0]!.match(/^ml2sc: error: fidelity gate \(data\.reference\): row (\d+), output (\d+): (\S+) on chain vs (\S+) in PyTorch \(off by (\S+)\), beyond the tolerance (\S+) \(precision\.tolerance 1% of output \d+'s range\); out\/report\.json is written \(hint: model\.layers was GUESSED/)
    expect(m).not.toBeNull()
    expect(r.stderr).not.toContain('    at ') // no stack trace

    // nothing lost: every report is there, and says the same as the line
    for (const f of ['report.json', 'report.md', 'report.html', 'predictions.csv']) expect(existsSync(path.join(dir, 'out', f))).toBe(true)
    const report = readJson(path.join(dir, 'out', 'report.json'))
    expect(report.fidelity).toMatchObject({ enforced: true, against: 'pytorch-csv', tolerance: '1%', within: false, rows: 40 })
    expect(report.fidelity.worst).toMatchObject({ row: Number(m![1]), output: Number(m![2]), onchain: Number(m![3]), reference: Number(m![4]) })
    expect(report.fidelity.worst.deviation).toBeGreaterThan(1) // ELU read as ReLU: whole units away
    expect(report.fidelity.worst.deviation).toBeGreaterThan(report.fidelity.worst.tolerance)
    expect(report.precision.tolerance).toBe('1%')
    // class agreement alone never passes the gate
    expect(report.accuracy.agreement).toBe(1)
    // the guess is in the report, not only at init
    expect(report.model.guessed).toBe(true)
    expect(report.warnings[0]).toContain('architecture GUESSED')
    // auto chose on the first 20% of the 40 test rows; accuracy is over the other 32
    expect(report.precision.calibration).toEqual({ source: 'test rows', first: 0, last: 7, count: 8 })
    expect(report.accuracy.rows).toEqual({ count: 32, excluded: { first: 0, last: 7, count: 8 } })
    const md = readFileSync(path.join(dir, 'out', 'report.md'), 'utf8')
    expect(md).toContain('**Architecture GUESSED**')
    expect(md).toContain('chose the widths on calibration rows 0–7 (the first 8 test rows); accuracy, agreement and error are over the other 32 answered rows')
    expect(md).toContain('**BEYOND**')
    expect(md).toContain('of 32 rows (same class)')
  })

  test('BatchNorm classifier with PyTorch outputs: within the tolerance, exit 0; report.json names its calibration rows', async () => {
    const dir = copy('bn', ['model.onnx', 'test.csv', 'reference.csv'])
    const init = await runCliInProcess(['init', 'model.onnx'], { cwd: dir })
    expect(init.code).toBe(0)
    const r = await runCliInProcess(['run', 'ml2sc.yaml'], { cwd: dir })
    expect(r.stderr).not.toContain('ml2sc: error:')
    expect(r.code).toBe(0)
    const report = readJson(path.join(dir, 'out', 'report.json'))
    expect(report.fidelity).toMatchObject({ enforced: true, within: true, rows: 60 })
    expect(report.fidelity.worst.deviation).toBeLessThanOrEqual(report.fidelity.worst.tolerance)
    expect(report.precision.weightBits).toBeGreaterThan(8)
    expect(report.precision.calibration).toEqual({ source: 'test rows', first: 0, last: 11, count: 12 })
    expect(report.accuracy.rows.count).toBe(48)
    expect(report.model.guessed).toBe(false)
    expect(r.stderr).toContain('calibration  precision: auto chose on test rows 0–11 (12); accuracy and agreement are over the other 48')
  })
})

const D = path.join(FIXTURES, 'graph', 'heads_wine')
const lines = (f: string) => readFileSync(f, 'utf8').trim().split('\n')
const config = (label: string) => `model:\n  path: model.state_dict.pt\n  source: model.py\n  class: TwoHeads\ndata:\n  test: test.csv\n  label: ${label}\n  reference: reference.csv\n`

function project(label = '[label, alcohol]'): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-heads-'))
  for (const f of ['model.state_dict.pt', 'model.py', 'test.csv', 'reference.csv']) copyFileSync(path.join(D, f), path.join(dir, f))
  writeFileSync(path.join(dir, 'ml2sc.yaml'), config(label))
  return dir
}

describe('a two-head model on chain', () => {
  test('data.label with a column per head: a list of the wrong length is one clear line naming data.label', async () => {
    const dir = project('[label]')
    const r = await runCliInProcess(['run', 'ml2sc.yaml'], { cwd: dir })
    expect(r.code).not.toBe(0)
    const err = r.stderr.trim().split('\n').filter((l) => l.startsWith('ml2sc: error'))
    expect(err).toHaveLength(1)
    expect(err[0]).toContain('data.label lists 1 column (label) but the model has 2 outputs (logits, alcohol)')
    expect(r.stderr).not.toMatch(/\n\s+at /) // no stack trace
  })

  test('ONNX with two named graph outputs: init --data test.csv writes label [label, alcohol], and the config runs unedited', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-heads-onnx-'))
    for (const f of ['model.onnx', 'test.csv', 'reference.csv']) copyFileSync(path.join(D, f), path.join(dir, f))
    const init = await runCliInProcess(['init', 'model.onnx', '--data', 'test.csv'], { cwd: dir })
    expect(init.code).toBe(0)
    const yaml = readFileSync(path.join(dir, 'ml2sc.yaml'), 'utf8')
    expect(yaml).toContain('label: [label, alcohol]')
    expect(yaml).not.toContain('WARNING')
    const run = await runCliInProcess(['run', 'ml2sc.yaml'], { cwd: dir })
    expect(run.stderr).not.toContain('ml2sc: error')
    expect(run.code).toBe(0)
    const report = readJson(path.join(dir, 'out', 'report.json'))
    expect(report.model.format).toBe('onnx')
    expect(report.heads.map((h: { name: string; within: boolean; agreement: number }) => [h.name, h.within, h.agreement])).toEqual([
      ['logits', true, 1],
      ['alcohol', true, 1],
    ])
    expect(report.simulator.mismatches).toBe(0)
  })

  test('each head equals PyTorch on anvil; report.json, predictions.csv and predict --json per head; a tampered head fails', async () => {
    const dir = project()
    const run = await runCliInProcess(['run', 'ml2sc.yaml'], { cwd: dir })
    expect(run.stderr).not.toContain('ml2sc: error')
    expect(run.code).toBe(0)
    expect(run.stdout + run.stderr).toContain('simulator mismatches 0')
    const report = readJson(path.join(dir, 'out', 'report.json'))
    expect(report.fidelity).toMatchObject({ enforced: true, against: 'pytorch-csv', within: true, rows: 40 })
    const [logits, alcohol] = report.heads
    expect(logits).toMatchObject({ name: 'logits', task: 'multiclass', offset: 0, size: 3, label: 'label', agreement: 1, within: true })
    expect(alcohol).toMatchObject({ name: 'alcohol', task: 'regression', offset: 3, size: 1, label: 'alcohol', agreement: 1, within: true })
    // each head within its tolerance of PyTorch (1% of the output's range, report.fidelity.tolerances)
    expect(logits.maxAbsError).toBeLessThan(Math.min(...report.fidelity.tolerances.slice(0, 3)))
    expect(alcohol.maxAbsError).toBeLessThan(report.fidelity.tolerances[3])
    // the top-level fields are the first head's (compat); the value head is judged by MAE against its own column
    expect(report.model.task).toBe('multiclass')
    expect(report.accuracy.onchain).toBe(logits.accuracy.onchain)
    expect(report.accuracy.agreement).toBe(1)
    expect(alcohol.mae.onchain).toBeGreaterThan(0.2) // alcohol % against the real label, not the class column
    expect(alcohol.mae.onchain).toBeLessThan(1.5)
    expect(Math.abs(alcohol.mae.onchain - alcohol.mae.reference)).toBeLessThan(1e-3)
    expect(report.gas.predictSingle).toBeGreaterThan(21_000)

    // report.md and report.html show each head
    const md = readFileSync(path.join(dir, 'out', 'report.md'), 'utf8')
    expect(md).toContain('## Outputs (heads)')
    expect(md).toMatch(/\| alcohol \| regression \| 3 \| alcohol \| MAE /)
    expect(readFileSync(path.join(dir, 'out', 'report.html'), 'utf8')).toContain('<td>logits</td><td>multiclass</td>')

    // predictions.csv: the compat columns, then <head>_label/_onchain/_reference per head
    const csv = lines(path.join(dir, 'out', 'predictions.csv'))
    expect(csv[0]).toBe('row,label,onchain,reference,logits_label,logits_onchain,logits_reference,alcohol_label,alcohol_onchain,alcohol_reference')
    const torch = lines(path.join(D, 'reference.csv')).slice(1).map((l) => l.split(',').map(Number))
    const labels = lines(path.join(D, 'test.csv')).slice(1).map((l) => l.split(',').slice(-2).map(Number))
    csv.slice(1).forEach((l, i) => {
      const c = l.split(',')
      expect(Number(c[7])).toBe(labels[i]![1]!)
      expect(Math.abs(Number(c[8]) - torch[i]![4]!)).toBeLessThan(report.fidelity.tolerances[3])
      expect(Number(c[5])).toBe(Number(c[6]))
    })

    // predict --json names each head; eth_call and the simulator answer the same
    writeFileSync(path.join(dir, 'rows.csv'), lines(path.join(D, 'test.csv')).slice(0, 4).join('\n') + '\n')
    const on = await runCliInProcess(['predict', 'ml2sc.yaml', '--input', 'rows.csv', '--json'], { cwd: dir })
    const off = await runCliInProcess(['predict', 'ml2sc.yaml', '--input', 'rows.csv', '--json', '--offchain'], { cwd: dir })
    expect(on.code).toBe(0)
    expect(JSON.parse(on.stdout)).toEqual(JSON.parse(off.stdout))
    const rows = JSON.parse(on.stdout).rows
    expect(rows).toHaveLength(3)
    for (const [i, r] of rows.entries()) {
      expect(Object.keys(r.heads)).toEqual(['logits', 'alcohol'])
      expect(r.heads.logits.raw).toEqual(r.raw.slice(0, 3))
      expect(r.heads.alcohol.raw).toEqual(r.raw.slice(3))
      expect(r.prediction).toBe(r.heads.logits.prediction)
      expect(Math.abs(r.heads.alcohol.prediction - torch[i]![4]!)).toBeLessThan(report.fidelity.tolerances[3])
    }

    // the trust rule: PyTorch's alcohol output for row 5 moved by 0.5 (≫ the tolerance): the run fails and
    // neither the head nor the top level claims agreement, though the class head alone still agrees
    const ref = lines(path.join(dir, 'reference.csv'))
    const cells = ref[6]!.split(',')
    cells[4] = String(Number(cells[4]) + 0.5)
    ref[6] = cells.join(',')
    writeFileSync(path.join(dir, 'reference.csv'), ref.join('\n') + '\n')
    const bad = await runCliInProcess(['run', 'ml2sc.yaml'], { cwd: dir })
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain('row 5')
    const tampered = readJson(path.join(dir, 'out', 'report.json'))
    expect(tampered.fidelity.within).toBe(false)
    expect(tampered.heads[1]).toMatchObject({ name: 'alcohol', within: false, agreement: null })
    expect(tampered.heads[0]).toMatchObject({ name: 'logits', within: true, agreement: 1 })
    expect(tampered.accuracy.agreement).toBeNull()
  })
})

// Issue 18: a run far from PyTorch never says "agreement 100%" and exits 0. On a real anvil, as a newcomer
// runs it: a weights-only ELU MLP (real PyTorch, test/fixtures/trust/elu) with no source beside it is
// guessed as ReLU by init (marked GUESSED), every class still agrees, and `run` fails the fidelity gate with
// one line naming the worst row and output, after writing every report. A faithful run passes and its
// report names the rows `precision: auto` chose on.
import { describe, expect, test } from 'bun:test'
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
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

// Issue 18: `precision: auto` is honest about its data. It chooses on calibration rows (data.calibration,
// else the first 20% of the test rows) and only widths whose outputs stay within precision.tolerance there.
// The held-out BatchNorm classifier (test/fixtures/trust/bn, real PyTorch) kept every class at int8 while
// its logits moved by 1.8% of their range: auto used to pick int8 on it.
import { describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { DataError } from '../../src/errors/base.ts'
import { readAllRows } from '../../src/data/readCsv.ts'
import { readReference } from '../../src/data/readReference.ts'
import { encodeRow } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { TOLERANCE_FLOOR, tolerancePerOutput, worstDeviation } from '../../src/fixed/tolerance.ts'
import { heldOutCount } from '../../src/pipeline/calibrationRows.ts'
import { prepareModel } from '../../src/pipeline/prepareModel.ts'
import { FIXTURES } from '../helpers/paths.ts'

const BN = path.join(FIXTURES, 'trust', 'bn')
const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-auto-calibration-'))
function config(name: string, extra = '', data = `  reference: ${BN}/reference.csv\n`): string {
  const file = path.join(dir, `${name}.yaml`)
  writeFileSync(file, `model:\n  path: ${BN}/model.onnx\ndata:\n  test: ${BN}/test.csv\n  label: label\n${data}${extra}`)
  return file
}

describe('precision.tolerance', () => {
  test('a share is of each output range (at least the floor); a number is absolute; a constant output takes its magnitude', () => {
    const ref = [
      [0, 5, 2],
      [10, 5, 2],
      [4, 5, 2],
    ]
    expect(tolerancePerOutput('1%', ref, 3)).toEqual([0.1, 0.05, 0.02])
    expect(tolerancePerOutput('2.5%', [[0], [1]], 1)).toEqual([0.025])
    expect(tolerancePerOutput(0.3, ref, 3)).toEqual([0.3, 0.3, 0.3])
    expect(tolerancePerOutput('1%', [[0], [0.001]], 1)).toEqual([TOLERANCE_FLOOR])
    expect(tolerancePerOutput('1%', [[0]], 1)).toEqual([0.01])
  })

  test('the worst output is the one furthest beyond its own tolerance, not the largest difference', () => {
    const w = worstDeviation([[1, 0.5], undefined, [3, 0.7]], [[1, 0.4], [0, 0], [2.5, 0.4]], [1, 0.1])
    expect(w).toMatchObject({ index: 2, output: 1, value: 0.7, reference: 0.4 })
    expect(w!.deviation).toBeCloseTo(0.3, 12)
  })
})

describe('precision: auto on calibration rows', () => {
  test('the held-out share: the first 20% of the test rows, at most 200, none below 5 rows', () => {
    expect([1, 4, 5, 50, 60, 999, 1000, 5000].map(heldOutCount)).toEqual([0, 0, 1, 10, 12, 199, 200, 200])
  })

  test('BatchNorm classifier: int8 keeps every class but leaves the tolerance, so auto does not choose it; every output stays within 1%', async () => {
    const { plan, model, task, calibration } = await prepareModel(await loadConfig(config('bn')))
    expect(calibration).toEqual({ source: 'test rows', first: 0, last: 11, count: 12 })
    expect(plan.weightBytes).toBeGreaterThan(1)
    const { features } = await readAllRows(path.join(BN, 'test.csv'), { label: 'label' })
    const torch = await readReference(path.join(BN, 'reference.csv'), 10)
    const tol = tolerancePerOutput('1%', torch, 10)
    const outputs = (p: typeof plan) => features.map((f) => simulate(p, (encodeRow(p, f) as { values: bigint[] }).values).map((v) => Number(v) / Number(p.scale)))
    const chosen = worstDeviation(outputs(plan), torch, tol)!
    expect(chosen.deviation).toBeLessThanOrEqual(chosen.tolerance)
    // what int8 would have been: every class PyTorch's, yet beyond the tolerance (what main chose before)
    const int8 = makePlan(model, { fraction: plan.F, weightBytes: 1, inputBytes: 4 })
    const o8 = outputs(int8)
    expect(o8.every((y, i) => y.indexOf(Math.max(...y)) === torch[i]!.indexOf(Math.max(...torch[i]!)))).toBe(true)
    expect(worstDeviation(o8, torch, tol)!.ratio).toBeGreaterThan(1)
    expect(task).toBe('multiclass')
  })

  test('a looser precision.tolerance lets int8 back in: the tolerance is what moved it', async () => {
    const { plan } = await prepareModel(await loadConfig(config('bn-loose', 'precision:\n  tolerance: 10%\n')))
    expect(plan.weightBytes).toBe(1)
  })

  test('data.calibration: auto chooses on that file, and no test row is held out', async () => {
    const lines = readFileSync(path.join(BN, 'test.csv'), 'utf8').trim().split('\n')
    const cal = path.join(dir, 'calibration.csv')
    writeFileSync(cal, [lines[0], ...lines.slice(31)].join('\n') + '\n')
    const { calibration } = await prepareModel(await loadConfig(config('bn-cal', '', `  reference: ${BN}/reference.csv\n  calibration: ${cal}\n`)))
    expect(calibration).toEqual({ source: 'data.calibration', file: 'calibration.csv', first: 0, last: 29, count: 30 })
  })

  test('an empty data.calibration is one error naming the key, never a silent fallback', async () => {
    const empty = path.join(dir, 'empty.csv')
    writeFileSync(empty, readFileSync(path.join(BN, 'test.csv'), 'utf8').split('\n')[0] + '\n')
    const err = await prepareModel(await loadConfig(config('bn-empty', '', `  calibration: ${empty}\n`))).catch((e) => e)
    expect(err).toBeInstanceOf(DataError)
    expect(err.oneLine()).toMatch(/empty\.csv.*no rows/)
  })

  test('pinned widths choose nothing on rows: no calibration rows', async () => {
    const { calibration, plan } = await prepareModel(await loadConfig(config('bn-pinned', 'precision:\n  weights: int8\n  inputs: int32\n')))
    expect(calibration).toBeUndefined()
    expect(plan.weightBytes).toBe(1)
  })
})

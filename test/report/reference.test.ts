// "Agreement 100%" must mean agreement with PyTorch. With data.reference (PyTorch's own outputs) a wrongly
// declared architecture shows as disagreement, the right one as 100% with maxAbs ≤ 1e-4; without it the
// report says what it measured against. Label sanity: labels outside 0…n−1 and accuracy at or below chance
// are warned about; text labels work through data.classes.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { readReference } from '../../src/data/readReference.ts'
import { DataError } from '../../src/errors/base.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-reference-'))
  for (const f of ['weights.json', 'test.csv', 'reference.csv']) copyFileSync(path.join(FIXTURES, 'bc_sigmoid', f), path.join(dir, f))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The truth (test/fixtures/bc_sigmoid/meta.json): linear, relu, linear, sigmoid. */
const RIGHT = '[linear, relu, linear, sigmoid]'
const WRONG = '[linear, tanh, linear, sigmoid]'

async function run(name: string, yaml: string) {
  const cfg = path.join(dir, `${name}.yaml`)
  writeFileSync(cfg, yaml)
  const out = path.join(dir, `out-${name}`)
  const r = await runCliInProcess(['run', cfg, '--out', out])
  const report = existsSync(path.join(out, 'report.json')) ? JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) : undefined
  return { ...r, out, report }
}

const config = (layers: string, data = '  reference: reference.csv\n', test = 'test.csv') => `model:\n  path: weights.json\n  layers: ${layers}\ndata:\n  test: ${test}\n  label: label\n${data}`

describe('data.reference: measured against PyTorch', () => {
  test('the right architecture: 100% agreement, maxAbs ≤ 1e-4, and report.json says the reference is PyTorch', async () => {
    const r = await run('right', config(RIGHT))
    expect(r.code).toBe(0)
    expect(r.report.reference).toEqual({ source: 'pytorch-csv', architecture: 'model.layers (unverified)', file: 'reference.csv', description: "PyTorch's outputs (data.reference: reference.csv)" })
    expect(r.report.accuracy.agreement).toBe(1)
    expect(r.report.error.maxAbs).toBeLessThanOrEqual(1e-4)
    expect(r.stderr).toContain("reference    PyTorch's outputs (data.reference: reference.csv)")
    // predictions.csv's reference column is PyTorch's class
    const torch = readFileSync(path.join(dir, 'reference.csv'), 'utf8').trim().split('\n').slice(1).map((l) => (Number(l.split(',')[1]) > 0.5 ? 1 : 0))
    const preds = readFileSync(path.join(r.out, 'predictions.csv'), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[3]))
    expect(preds).toEqual(torch)
    expect(readFileSync(path.join(r.out, 'report.md'), 'utf8')).toContain("Reference: PyTorch's outputs (data.reference: reference.csv).")
  })

  test('a wrongly declared architecture: disagreement with PyTorch shows; without data.reference the report says the architecture is unverified', async () => {
    // the fidelity gate (issue 18): the run fails, one line naming the worst row and output, the report still written
    const wrong = await run('wrong', config(WRONG))
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(/ml2sc: error: fidelity gate \(data\.reference\): row \d+, output 0: .* beyond the tolerance/)
    expect(wrong.report.accuracy.agreement).toBeLessThan(1)
    expect(wrong.report.error.maxAbs).toBeGreaterThan(0.01)
    expect(wrong.report.fidelity).toMatchObject({ enforced: true, within: false })

    const blind = await run('blind', config(WRONG, ''))
    expect(blind.code).toBe(0)
    // against its own float pass the wrong model agrees with itself: the report must say what that means
    expect(blind.report.accuracy.agreement).toBe(1)
    expect(blind.report.reference).toMatchObject({ source: 'ml2sc-float', architecture: 'model.layers (unverified)' })
    expect(blind.report.reference.description).toContain('unverified')
    expect(blind.stderr).toContain('reference    ml2sc float forward pass (architecture from model.layers: unverified')
    expect(readFileSync(path.join(blind.out, 'report.md'), 'utf8')).toContain('unverified')
    expect(readFileSync(path.join(blind.out, 'report.html'), 'utf8')).toContain('unverified')
  })

  test('a reference with another row count is refused before anything is deployed', async () => {
    const lines = readFileSync(path.join(dir, 'reference.csv'), 'utf8').trim().split('\n')
    writeFileSync(path.join(dir, 'short.csv'), lines.slice(0, -1).join('\n') + '\n')
    const r = await run('short', config(RIGHT, '  reference: short.csv\n'))
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('the reference has 49 rows, but the test CSV has 50')
    expect(existsSync(path.join(r.out, 'deployment.json'))).toBe(false)
  })
})

describe('readReference', () => {
  const file = (name: string, text: string) => {
    const f = path.join(dir, name)
    writeFileSync(f, text)
    return f
  }
  test("np.savetxt's default (spaces, no header, exponents) and a comma CSV with a header and a row column read the same", async () => {
    const a = await readReference(file('a.txt', '7.421235084533691e+00 -1.181053638458252e+00 -1.131522274017334e+01\n1.0e-3 2 3\n'), 3)
    const b = await readReference(file('b.csv', 'row,out0,out1,out2\n0,7.421235084533691,-1.181053638458252,-11.31522274017334\n1,0.001,2,3\n'), 3)
    const c = await readReference(file('c.csv', '# written by np.savetxt\n7.421235084533691,-1.181053638458252,-11.31522274017334\n0.001,2,3\n'), 3)
    expect(a).toEqual(b)
    expect(c).toEqual(b)
  })
  test('a wrong column count or a word is one error naming the line', async () => {
    await expect(readReference(file('d.csv', '1,2\n3\n'), 2)).rejects.toThrow(/1 value on this line, but the model has 2 outputs/)
    await expect(readReference(file('e.csv', '1,2\n3,x\n'), 2)).rejects.toBeInstanceOf(DataError)
  })
})

describe('labels', () => {
  /** test.csv with its label column rewritten. */
  function relabel(name: string, f: (label: string) => string): string {
    const [header, ...rows] = readFileSync(path.join(dir, 'test.csv'), 'utf8').trim().split('\n')
    writeFileSync(path.join(dir, name), [header, ...rows.map((l) => { const c = l.split(','); c[c.length - 1] = f(c[c.length - 1]!); return c.join(',') })].join('\n') + '\n')
    return name
  }

  test('text labels through data.classes give the same accuracy as the class indices', async () => {
    // scikit-learn's breast-cancer target: 0 = malignant, 1 = benign
    const csv = relabel('named.csv', (l) => (l === '1' ? 'benign' : 'malignant'))
    const r = await run('named', config(RIGHT, '  reference: reference.csv\n  classes: [malignant, benign]\n', csv))
    expect(r.code).toBe(0)
    expect(r.report.accuracy.onchain).toBe(0.95) // over rows 10–49: the first 10 are precision: auto's calibration rows
    expect(r.report.warnings).toEqual([])
    const bare = await run('named-bare', config(RIGHT, '', csv))
    expect(bare.code).toBe(1)
    expect(bare.stderr).toContain("'benign' is not a number")
    expect(bare.stderr).toContain('data.classes')
  })

  test('labels outside 0…n−1 and accuracy at or below chance are warned about, with the likely cause', async () => {
    const oneBased = await run('one-based', config(RIGHT, '', relabel('one-based.csv', (l) => String(Number(l) + 1))))
    expect(oneBased.code).toBe(0)
    expect(oneBased.report.warnings[0]).toMatch(/labels outside 0…1 \(2\).*count from 1/)
    expect(oneBased.stderr).toContain('warning: labels outside 0…1')

    const flipped = await run('flipped', config(RIGHT, '', relabel('flipped.csv', (l) => String(1 - Number(l)))))
    expect(flipped.code).toBe(0)
    expect(flipped.report.accuracy.onchain).toBe(0.05) // over rows 10–49 (rows 0–9: calibration)
    expect(flipped.report.warnings[0]).toMatch(/accuracy 5\.0% is at or below chance \(50\.0% for 2 classes\)/)
    expect(readFileSync(path.join(flipped.out, 'report.md'), 'utf8')).toContain('## Warnings')
  })
})

describe('the ML2SC ratio only for a model comparable with its 30-4-1', () => {
  test('iris (4-16-3): no ratio, gas per parameter instead; breast cancer (30-8-1 binary): the ratio', async () => {
    const out = path.join(dir, 'out-iris')
    const r = await runCliInProcess(['run', 'examples/iris/ml2sc.yaml', '--out', out, '--quiet'])
    expect(r.code).toBe(0)
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'))
    expect(report.gas.ml2scComparable).toBe(false)
    expect(report.gas.ml2scRatio).toBeNull()
    expect(report.gas.perParameter.inference).toBeCloseTo(report.gas.inference.perRow / report.model.parameters, 1)
    expect(readFileSync(path.join(out, 'report.md'), 'utf8')).toContain("gas per parameter (a 4-16-3 model is not compared with ML2SC's 30-4-1)")
    const html = readFileSync(path.join(out, 'report.html'), 'utf8')
    expect(html).not.toContain('chart-ml2sc-ratio')
    expect(html).toContain('Gas per parameter')
    // the right architecture's model: the report on it (right.yaml above) has the ratio
    const bc = JSON.parse(readFileSync(path.join(dir, 'out-right', 'report.json'), 'utf8'))
    expect(bc.gas.ml2scComparable).toBe(true)
    expect(bc.gas.ml2scRatio).toBeGreaterThan(1)
  })
})

// The report of a run: PyTorch's outputs as the reference, and report.html (its charts rendered in headless
// Chromium). One file (one bun process and module load) for what were two, reference and html, each test as it
// was there.
//
// "Agreement 100%" must mean agreement with PyTorch. With data.reference (PyTorch's own outputs) a wrongly
// declared architecture shows as disagreement, the right one as 100% with maxAbs ≤ 1e-4; without it the
// report says what it measured against. Label sanity: labels outside 0…n−1 and accuracy at or below chance
// are warned about; text labels work through data.classes.
//
// report.html from a real run (breast-cancer: real anvil, real solc, a PyTorch-trained model), opened in
// headless Chromium: every chart must have drawn marks in the rendered DOM, and nothing may come from
// the network.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import path from 'node:path'
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { readReference } from '../../src/data/readReference.ts'
import { DataError } from '../../src/errors/base.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { readBenchResults, renderReportHtml } from '../../src/report/renderReportHtml.ts'

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

const CHARTS = ['chart-gas-steps', 'chart-ml2sc-ratio', 'chart-gas-size', 'chart-error-hist', 'chart-outputs']

// ML2SC_CHROMIUM=/path overrides the lookup (and lets the skip path be checked with a path that does not exist)
const CHROMIUM = (process.env.ML2SC_CHROMIUM ? [process.env.ML2SC_CHROMIUM] : ['/usr/bin/chromium', Bun.which('chromium'), Bun.which('chromium-browser')]).find(
  (p): p is string => !!p && existsSync(p),
)
if (!CHROMIUM)
  console.warn(
    process.env.ML2SC_REQUIRE_CHROMIUM
      ? 'report.html test: chromium is missing and ML2SC_REQUIRE_CHROMIUM is set: the browser test will FAIL'
      : 'WARNING: report.html browser test SKIPPED: /usr/bin/chromium is not installed (apt-get install -y chromium; .ci/run tries to). Set ML2SC_REQUIRE_CHROMIUM=1 to make this a failure.',
  )

/** Each chart's <svg ...> opening tag attributes and the marks inside it, from an HTML string. */
function charts(html: string) {
  const out = new Map<string, { points: number; drawn?: number; marks: number }>()
  for (const m of html.matchAll(/<svg\b([^>]*)>([\s\S]*?)<\/svg>/g)) {
    const attrs = m[1]!
    const id = /\bid="([^"]+)"/.exec(attrs)?.[1]
    if (!id?.startsWith('chart-')) continue
    const drawn = /\bdata-drawn="(\d+)"/.exec(attrs)?.[1]
    out.set(id, {
      points: Number(/\bdata-points="(\d+)"/.exec(attrs)?.[1] ?? NaN),
      drawn: drawn === undefined ? undefined : Number(drawn),
      marks: (m[2]!.match(/\bclass="mark"/g) ?? []).length,
    })
  }
  return out
}

async function chromium(args: string[], dir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(
    [CHROMIUM!, '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${dir}`, ...args],
    { stdout: 'pipe', stderr: 'pipe' },
  )
  const timer = setTimeout(() => proc.kill(), 300_000) // a hung browser, not a slow one
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()])
  const code = await proc.exited
  clearTimeout(timer)
  return { code, stdout, stderr }
}

describe('report.html', () => {
  let out = ''
  let html = ''
  beforeAll(async () => {
    out = mkdtempSync(path.join(tmpdir(), 'ml2sc-html-'))
    const r = await runCliInProcess(['run', 'examples/breast-cancer/ml2sc.yaml', '--out', out, '--quiet'])
    if (r.code !== 0) throw new Error(`ml2sc run failed: ${r.stderr}`)
    html = readFileSync(path.join(out, 'report.html'), 'utf8')
  })

  test('is written by run, self-contained, and every chart has an id and data-points = its marks', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true)
    // no network: no external scripts, styles, images or fonts
    expect(html).not.toMatch(/<(script|link|img|iframe)\b[^>]*\b(src|href)=["']?(https?:)?\/\//i)
    expect(html).not.toMatch(/@import|url\(\s*["']?https?:/i)
    const found = charts(html)
    expect([...found.keys()].sort()).toEqual([...CHARTS].sort())
    for (const id of CHARTS) {
      const c = found.get(id)!
      expect(c.points).toBeGreaterThan(0)
      expect(c.marks).toBe(c.points)
    }
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'))
    expect(found.get('chart-outputs')!.points).toBe(report.rows.answered)
    // the shared admin library this fresh chain needed is in the chart and the table, priced like every step
    expect(report.gas.adminLibrary).toBeGreaterThan(0)
    const steps = [report.gas.adminLibrary, report.gas.deploy, report.gas.upload, report.gas.inference.total, report.gas.predictSingle]
    expect(found.get('chart-gas-steps')!.points).toBe(steps.filter((g) => g > 0).length)
    expect(html).toContain(`<td>shared admin library</td><td class="r">${report.gas.adminLibrary.toLocaleString('en-US')}</td>`)
    // the model's weights are in its code: the upload row says so instead of "0 transaction(s), 0 gas per parameter"
    expect(report.gas.uploadTransactions).toBe(0)
    const md = readFileSync(path.join(out, 'report.md'), 'utf8')
    for (const text of [html, md]) {
      expect(text).not.toContain('0 transaction(s)')
      expect(text).toContain('none: the weights went on chain with the deploy (in the contract code), nothing to upload')
    }
    // the fidelity gate and the calibration rows, as report.md says them
    expect(html).toContain(`Fidelity (every answered row vs PyTorch&#39;s outputs, precision.tolerance ${report.fidelity.tolerance}): <strong>${report.fidelity.within ? 'within' : 'BEYOND'}</strong>`)
    expect(report.precision.calibration.count).toBeGreaterThan(0)
    expect(html).toContain(`chose the widths on calibration rows ${report.precision.calibration.first}–${report.precision.calibration.last}`)
    expect(found.get('chart-ml2sc-ratio')!.points).toBe(2)
    expect(found.get('chart-error-hist')!.points).toBe(report.error.histogram.counts.filter((c: number) => c > 0).length)
    expect(found.get('chart-gas-size')!.points).toBe(2 + readBenchResults().rows.length)
  })

  test('bench results: measured sweep points are plotted when present, absence and garbage are tolerated', () => {
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'))
    const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-bench-'))
    const file = path.join(dir, 'results.json')
    expect(readBenchResults(file).rows).toEqual([])
    writeFileSync(file, '{not json')
    expect(readBenchResults(file).rows).toEqual([])
    writeFileSync(
      file,
      JSON.stringify({
        rows: [
          { name: '30-4-1', parameters: 129, macs: 124, layout: 'ml2sc', gasPerRow: 262243 },
          { name: '30-4-1', parameters: 129, macs: 124, layout: 'datacontract', gasPerRow: 4700 },
          { name: 'broken', parameters: 0, layout: 'code', gasPerRow: 1 },
        ],
      }),
    )
    const bench = readBenchResults(file)
    expect(bench.rows.length).toBe(2)
    const c = charts(renderReportHtml(report, { bench: bench.rows, benchFile: bench.file })).get('chart-gas-size')!
    expect(c.points).toBe(4)
    expect(c.marks).toBe(4)
  })

  test.skipIf(!CHROMIUM && !process.env.ML2SC_REQUIRE_CHROMIUM)('renders in headless Chromium with every chart drawn', async () => {
    if (!CHROMIUM) throw new Error('chromium is not installed (/usr/bin/chromium missing): apt-get install -y chromium')
    const profile = mkdtempSync(path.join(tmpdir(), 'ml2sc-chromium-'))
    const url = `file://${path.join(out, 'report.html')}`
    const png = path.join(out, 'report.png')
    // one browser start for both: the DOM after the page's scripts ran, and a screenshot of the same page
    const dom = await chromium(['--dump-dom', `--screenshot=${png}`, '--window-size=1200,2400', url], profile)
    expect(dom.code).toBe(0)
    const rendered = charts(dom.stdout)
    expect([...rendered.keys()].sort()).toEqual([...CHARTS].sort())
    for (const id of CHARTS) {
      const c = rendered.get(id)!
      // data-drawn is set in the browser: marks with a non-empty laid-out box inside the chart
      expect({ id, drawn: c.drawn }).toEqual({ id, drawn: c.points })
      expect(c.drawn!).toBeGreaterThan(0)
    }
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG')
    expect(statSync(png).size).toBeGreaterThan(20_000)
  })
})

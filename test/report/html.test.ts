// report.html from a real run (breast-cancer: real anvil, real solc, a PyTorch-trained model), opened in
// headless Chromium: every chart must have drawn marks in the rendered DOM, and nothing may come from
// the network.
import { beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { readBenchResults, renderReportHtml } from '../../src/report/renderReportHtml.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'

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

import { headsHtml } from './headsSection.ts'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { ML2SC_GAS_PER_ROW_30_4_1, type Report } from './buildReport.ts'
import { ADMIN_LIBRARY_NOTE, uploadNote } from './gasNotes.ts'
import { CSS } from './reportCss.ts'
import { calibrationLine, fidelityLine } from './renderReportMd.ts'
import { barChartH, barChartV, esc, fmtCompact, fmtInt, scatterChart, type Series } from './svgCharts.ts'

/** One measured point of the benchmark sweep (bench/results.json, written by `npm run bench`). */
export type BenchRow = { name: string; parameters: number; macs?: number; layout: string; gasPerRow: number; [k: string]: unknown }

/** ML2SC's 30-4-1 model: 30·4 + 4 + 4·1 + 1 parameters. */
const ML2SC_PARAMETERS_30_4_1 = 129

/** At most this many rows go into the outputs scatter (evenly sampled beyond it; the caption says so). */
const MAX_SCATTER_ROWS = 1500

const COLORS = { ours: '#2563eb', ml2sc: '#dc2626', steps: ['#0f766e', '#0891b2', '#2563eb', '#7c3aed', '#64748b'], series: ['#2563eb', '#ea580c', '#16a34a', '#9333ea', '#0891b2', '#db2777', '#ca8a04', '#475569', '#0d9488', '#e11d48'] }

/**
 * The measured benchmark sweep, if one exists: `bench/results.json` of the ml2sc checkout (when running
 * from source), else `bench/results.json` under the working directory. Absent or unreadable → [].
 */
export function readBenchResults(file?: string): { rows: BenchRow[]; file?: string } {
  const here = import.meta.dir ?? ''
  const fromSource = here.startsWith('/$bunfs') || /^[A-Z]:\\~BUN/i.test(here) ? [] : [path.resolve(here, '../../bench/results.json')]
  const candidates = file ? [file] : [...fromSource, path.resolve(process.cwd(), 'bench/results.json')]
  for (const f of candidates) {
    if (!existsSync(f)) continue
    try {
      const json = JSON.parse(readFileSync(f, 'utf8')) as { rows?: unknown }
      const rows = (Array.isArray(json.rows) ? json.rows : []).filter(
        (r): r is BenchRow => !!r && typeof r === 'object' && Number((r as BenchRow).parameters) > 0 && Number((r as BenchRow).gasPerRow) > 0,
      )
      return { rows: rows.map((r) => ({ ...r, parameters: Number(r.parameters), gasPerRow: Number(r.gasPerRow), name: String(r.name ?? ''), layout: String(r.layout ?? '?') })), file: f }
    } catch {
      return { rows: [], file: f }
    }
  }
  return { rows: [] }
}

type Acc = { onchain?: number | null; reference?: number | null; agreement: number | null; mae?: { onchain: number | null; reference: number | null } }

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`)
const num = (x: number | null | undefined) => (x === null || x === undefined ? '–' : fmtInt(x))

/** report.html: one self-contained page (inline CSS and SVG, no network) with the run's charts and tables. */
export function renderReportHtml(r: Report, opts: { bench?: BenchRow[]; benchFile?: string } = {}): string {
  const shape = r.model.shape.join('-')
  const acc = r.accuracy as Acc
  const isReg = r.model.task === 'regression'
  const bench = opts.bench ?? []

  const charts = [
    figure('Gas per step', gasStepsChart(r), `All gas from transaction receipts${r.gas.inferenceSource === 'estimate' ? ', except inference and one predict: eth_estimateGas of calls, nothing sent on this paid chain' : ''}. Inference: ${num(r.gas.inference.rows)} rows in ${r.gas.inference.transactions} batch transaction(s) of up to ${num(r.gas.inference.batchRows)} rows, ${num(r.gas.inference.perRow)} gas per row.`),
    // only for a model comparable with ML2SC's 30-4-1 (ml2scComparable); any other is shown in gas per parameter
    ...(r.gas.ml2scComparable ? [figure('ML2SC ratio: gas per inference row', ml2scChart(r), `ML2SC's figure is its own 30-4-1 model, re-measured with its contracts (solc 0.8.37, PRBMath 4.1, anvil 1.7.1). This run's model is ${esc(shape)} (${num(r.model.parameters)} parameters against ML2SC's ${ML2SC_PARAMETERS_30_4_1}).`)] : []),
    figure('Gas per row against model size', sizeChart(r, bench), sizeCaption(r, bench, opts.benchFile)),
    figure('Error histogram: |on chain − reference| per output', errorChart(r), `${r.simulator.rows} rows × ${r.model.shape[r.model.shape.length - 1]} output(s). Largest error ${r.error.maxAbs}, mean ${r.error.meanAbs}; the contract's raw outputs are at scale ${r.precision.scale}.`),
    figure('On-chain vs reference outputs', outputsChart(r), outputsCaption(r), true),
  ]

  const cards = [
    isReg
      ? card('MAE on chain', String(acc.mae?.onchain ?? '–'), `reference ${acc.mae?.reference ?? '–'}`)
      : card('Accuracy on chain', pct(acc.onchain), `reference ${pct(acc.reference)}`),
    card('Agreement', pct(acc.agreement), `${isReg ? 'within 1e-3 of' : 'same class as'} the reference: ${r.reference.description}`),
    card('Gas per row', num(r.gas.inference.perRow), `one predict tx ${num(r.gas.predictSingle)}`),
    r.gas.ml2scComparable
      ? card('vs ML2SC', r.gas.ml2scRatio ? `${r.gas.ml2scRatio}×` : '–', `less gas per row than ${fmtInt(ML2SC_GAS_PER_ROW_30_4_1)}`)
      : card('Gas per parameter', String(r.gas.perParameter.inference), `per row (${shape}: not compared with ML2SC's 30-4-1)`),
    card('Max error', String(r.error.maxAbs), `simulator mismatches: ${r.simulator.mismatches}`),
  ]

  const gasRows: [string, string, string][] = [
    ['deploy', num(r.gas.deploy), `${num(r.contract.runtimeBytes)} bytes of runtime code`],
    ...(r.gas.adminLibrary ? [['shared admin library', num(r.gas.adminLibrary), ADMIN_LIBRARY_NOTE] as [string, string, string]] : []),
    ['upload weights', num(r.gas.upload), uploadNote(r)],
    [`inference, ${num(r.gas.inference.rows)} rows`, num(r.gas.inference.total), `${r.gas.inference.transactions} batch transaction(s)`],
    ['per row', num(r.gas.inference.perRow), 'base cost and calldata included'],
    ['one predict transaction', num(r.gas.predictSingle), 'all-in'],
    ...(r.gas.predictInternal === null ? [] : [<[string, string, string]>['predict from another contract', num(r.gas.predictInternal), `cold account access included, no base or calldata; ${num(r.gas.predictInternalClient)} through the 1e18 client`]]),
  ]

  const preds = r.predictions.slice(0, 500)
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ml2sc ${esc(r.ml2sc)}">
<title>ml2sc report: ${esc(r.contract.name)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
  <h1>ml2sc report <span class="muted">·</span> ${esc(r.contract.name)}</h1>
  <p class="sub"><code>${esc(r.model.file)}</code> (${esc(r.model.format)}) · ${esc(shape)} · ${num(r.model.parameters)} parameters · ${esc(r.model.task)} · layout <code>${esc(r.layout)}</code> · activations ${r.precision.scale}, weights int${r.precision.weightBits}, inputs int${r.precision.inputBits} · chain ${r.chain.chainId}${r.chain.embedded ? ' (embedded anvil)' : r.chain.local ? ' (a development node on this machine)' : ''}</p>
</header>
<section class="cards">${cards.join('')}</section>
<section class="panel">${[fidelityLine(r), calibrationLine(r)].map((l) => `<p${r.fidelity.worst && !r.fidelity.within && l.startsWith('Fidelity') ? ' class="err"' : ''}>${mdInline(l)}</p>`).join('')}</section>
${r.warnings.length ? `<section class="panel">${r.warnings.map((w) => `<p class="err">warning: ${esc(w)}</p>`).join('')}</section>` : ''}
<section class="grid">${charts.join('\n')}</section>
${r.heads?.length ? `<section class="panel">${headsHtml(r)}</section>` : ''}
<section class="tables">
  <div class="panel">
    <h2>Gas</h2>
    <table><thead><tr><th>step</th><th class="r">gas</th><th>note</th></tr></thead><tbody>
    ${gasRows.map(([a, b, c]) => `<tr><td>${esc(a)}</td><td class="r">${b}</td><td class="muted">${esc(c)}</td></tr>`).join('')}
    </tbody></table>
  </div>
  <div class="panel">
    <h2>Error per layer</h2>
    <table><thead><tr><th>layer</th><th>shape</th><th>activation</th><th class="r">max |error| vs float</th></tr></thead><tbody>
    ${(r.model.tensorLayers ?? []).map((l, i) => `<tr><td>${esc(l.name)}</td><td>${i === 0 ? `${r.model.inputShape!.join('×')} → ` : ''}${l.kind} ${l.outShape.join('×')}${l.macs ? ` <span class="muted">(${l.macs.toLocaleString('en-US')} MACs)</span>` : ''}</td><td>${esc(l.activation)}</td><td class="r">${r.error.perTensorLayer?.[i]?.maxAbs ?? ''}</td></tr>`).join('')}
    ${r.error.perLayer.map((l, i) => { const a = r.model.architecture[i]; return `<tr><td>${esc(l.name)}</td><td>${a ? `${a.in} → ${a.out}` : ''}</td><td>${esc(a?.activation ?? '')}</td><td class="r">${l.maxAbs}</td></tr>` }).join('')}
    </tbody></table>
    <h2>Provenance</h2>
    <table><tbody>
      <tr><td>ml2sc</td><td>${esc(r.ml2sc)}</td></tr>
      <tr><td>solc</td><td>${esc(r.tools.solc)} (evm ${esc(r.tools.evmVersion)})</td></tr>
      <tr><td>anvil</td><td>${esc(r.tools.anvil ?? '–')}, hardfork ${esc(r.tools.hardfork)}</td></tr>
      <tr><td>config</td><td>${esc(r.config.file)} <code class="hash">${esc(r.config.hash.slice(0, 16))}…</code></td></tr>
      <tr><td>created</td><td>${esc(r.createdAt)}</td></tr>
    </tbody></table>
  </div>
</section>
<section class="panel">
  <details><summary>Transactions (${r.transactions.length})</summary>
  <table><thead><tr><th>step</th><th class="r">gas</th><th>hash</th></tr></thead><tbody>
  ${r.transactions.map((t) => `<tr><td>${esc(t.label)}</td><td class="r">${fmtInt(t.gasUsed)}</td><td><code class="hash">${esc(t.hash)}</code></td></tr>`).join('')}
  </tbody></table></details>
  <details><summary>Predictions (${r.predictions.length}${r.predictions.length > preds.length ? `, first ${preds.length} shown; all in predictions.csv` : ''})</summary>
  <table><thead><tr><th class="r">row</th><th>label</th><th>on chain</th><th>reference</th><th>raw outputs (${r.precision.scale})</th></tr></thead><tbody>
  ${preds.map((p) => `<tr${p.error || String(p.onchain) !== String(p.reference) ? ' class="diff"' : ''}><td class="r">${p.row}</td><td>${esc(p.label)}</td><td>${p.error ? `<span class="err">${esc(p.error)}</span>` : esc(p.onchain)}</td><td>${esc(p.reference)}</td><td><code>${esc(p.raw.join(', '))}</code></td></tr>`).join('')}
  </tbody></table></details>
</section>
<footer>Generated by ml2sc ${esc(r.ml2sc)}. Self-contained: no scripts or styles are loaded from the network.</footer>
<script>${DRAWN_SCRIPT}</script>
</body>
</html>
`
}

/** Marks the browser actually laid out (non-empty box inside the viewBox), as data-drawn on each chart. */
const DRAWN_SCRIPT = `for(const s of document.querySelectorAll('svg.chart')){const v=s.viewBox.baseVal;let n=0;for(const m of s.querySelectorAll('.mark')){const b=m.getBBox(),cx=b.x+b.width/2,cy=b.y+b.height/2;if(b.width>0&&b.height>0&&cx>=0&&cx<=v.width&&cy>=0&&cy<=v.height)n++}s.setAttribute('data-drawn',String(n))}`

function card(title: string, value: string, sub: string) {
  return `<div class="card"><div class="k">${esc(title)}</div><div class="v">${esc(value)}</div><div class="s">${esc(sub)}</div></div>`
}

function figure(title: string, svg: string, caption: string, wide = false) {
  return `<figure class="panel${wide ? ' wide' : ''}"><h2>${esc(title)}</h2>${svg}<figcaption>${caption}</figcaption></figure>`
}

function gasStepsChart(r: Report): string {
  return barChartH(
    'chart-gas-steps',
    'Gas per step',
    [
      ...(r.gas.adminLibrary ? [{ label: 'admin library', value: r.gas.adminLibrary, note: 'once per chain, shared by every model', color: COLORS.steps[4]! }] : []),
      { label: 'deploy', value: r.gas.deploy, note: `${fmtInt(r.contract.runtimeBytes)} B runtime code`, color: COLORS.steps[0]! },
      {
        label: 'upload weights',
        value: r.gas.upload,
        note: r.gas.uploadTransactions ? `${r.gas.uploadTransactions} tx, ${r.gas.perParameter.upload} gas/param` : 'no upload transaction',
        color: COLORS.steps[1]!,
        empty: r.gas.uploadTransactions ? undefined : '0: no upload transaction was sent',
      },
      { label: 'inference', value: r.gas.inference.total, note: `${fmtInt(r.gas.inference.rows)} rows, ${r.gas.inference.transactions} tx`, color: COLORS.steps[2]! },
      { label: 'one predict', value: r.gas.predictSingle, note: 'a single-row transaction', color: COLORS.steps[3]!, empty: 'not measured (no answered row)' },
    ],
    { axisLabel: 'gas' },
  )
}

function ml2scChart(r: Report): string {
  return barChartH(
    'chart-ml2sc-ratio',
    'ML2SC ratio',
    [
      { label: 'ML2SC', value: ML2SC_GAS_PER_ROW_30_4_1, note: '30-4-1, int256 storage', color: COLORS.ml2sc },
      { label: 'ml2sc (this run)', value: r.gas.inference.perRow || null, note: `${r.model.shape.join('-')}, ${r.layout}`, color: COLORS.ours },
    ],
    { axisLabel: r.gas.ml2scRatio ? `gas per row · ML2SC pays ${r.gas.ml2scRatio}× more` : 'gas per row', rowHeight: 64 },
  )
}

function sizeChart(r: Report, bench: BenchRow[]): string {
  const layouts = [...new Set(bench.map((b) => b.layout))]
  const series: Series[] = layouts.map((layout, i) => ({
    name: layout === 'ml2sc' ? 'bench: ML2SC-style baseline' : `bench: ${layout}`,
    color: layout === 'ml2sc' ? '#f87171' : COLORS.series[(i + 2) % COLORS.series.length]!,
    shape: layout === 'ml2sc' ? 'square' : 'circle',
    size: 4,
    points: bench
      .filter((b) => b.layout === layout)
      .map((b) => ({ x: b.parameters, y: b.gasPerRow, title: `${b.name} (${b.layout}): ${fmtInt(b.parameters)} parameters, ${fmtInt(b.gasPerRow)} gas/row` })),
  }))
  series.push({
    name: 'ML2SC 30-4-1',
    color: COLORS.ml2sc,
    shape: 'diamond',
    size: 6,
    points: [{ x: ML2SC_PARAMETERS_30_4_1, y: ML2SC_GAS_PER_ROW_30_4_1, title: `ML2SC 30-4-1: ${ML2SC_PARAMETERS_30_4_1} parameters, ${fmtInt(ML2SC_GAS_PER_ROW_30_4_1)} gas/row`, label: 'ML2SC' }],
  })
  if (r.gas.inference.perRow > 0)
    series.push({
      name: 'this run',
      color: COLORS.ours,
      shape: 'circle',
      size: 7,
      points: [{ x: r.model.parameters, y: r.gas.inference.perRow, title: `this run ${r.model.shape.join('-')}: ${fmtInt(r.model.parameters)} parameters, ${fmtInt(r.gas.inference.perRow)} gas/row`, label: `this run (${r.model.shape.join('-')})` }],
    })
  return scatterChart('chart-gas-size', 'Gas per row against model size', series, { xLabel: 'parameters (log)', yLabel: 'gas per row (log)', xLog: true, yLog: true, height: 330 })
}

function sizeCaption(r: Report, bench: BenchRow[], file?: string): string {
  const src = bench.length
    ? `${bench.length} point(s) from the benchmark sweep${file ? ` (<code>${esc(path.basename(path.dirname(file)))}/${esc(path.basename(file))}</code>)` : ''}, plus`
    : 'No benchmark sweep was found (<code>npm run bench</code> writes <code>bench/results.json</code>); shown:'
  return `${src} this run and ML2SC's re-measured 30-4-1. Measured points only; no fitted curve.`
}

function errorChart(r: Report): string {
  const { edges, counts } = r.error.histogram
  const e = (x: number) => `1e${Math.round(Math.log10(x))}`
  const cats = counts.map((c, i) => {
    const label = i === 0 ? `≤${e(edges[0]!)}` : i === edges.length ? `>${e(edges[edges.length - 1]!)}` : `≤${e(edges[i]!)}`
    const range = i === 0 ? `|error| ≤ ${edges[0]}` : i === edges.length ? `|error| > ${edges[i - 1]}` : `${edges[i - 1]} < |error| ≤ ${edges[i]}`
    return { label, value: c, title: `${range}: ${c} output(s)` }
  })
  return barChartV('chart-error-hist', 'Error histogram', cats, { xLabel: '|error| per output (decade bins)', yLabel: 'outputs', height: 330 })
}

type Pred = Report['predictions'][number] & { referenceOutputs?: number[] }

function sample<T>(xs: T[], max: number): T[] {
  if (xs.length <= max) return xs
  return Array.from({ length: max }, (_, i) => xs[Math.floor((i * xs.length) / max)]!)
}

function outputsChart(r: Report): string {
  const scale = r.precision.unit
  const answered = (r.predictions as Pred[]).filter((p) => !p.error && p.raw.length)
  const preds = sample(answered, MAX_SCATTER_ROWS)
  const opts = { width: 1140, height: 360 }
  const rawOf = (p: Pred, j: number) => Number(p.raw[j]) / scale
  if (r.model.task === 'regression') {
    const pts = preds.map((p) => ({ x: Number(p.reference), y: Number(p.onchain), title: `row ${p.row}: on chain ${p.onchain}, reference ${p.reference}` }))
    return scatterChart('chart-outputs', 'On-chain vs reference outputs', [{ name: 'rows', color: COLORS.ours, points: pts }], { ...opts, xLabel: 'reference output (float)', yLabel: 'on-chain output', diagonal: true })
  }
  // the float reference's raw outputs, when the report carries them: a true on-chain vs reference scatter
  if (preds.length && preds.every((p) => Array.isArray(p.referenceOutputs) && p.referenceOutputs.length === p.raw.length)) {
    const n = preds[0]!.raw.length
    const series: Series[] = Array.from({ length: n }, (_, j) => ({
      name: n === 1 ? 'output' : `output ${j}`,
      color: COLORS.series[j % COLORS.series.length]!,
      points: preds.map((p) => ({ x: p.referenceOutputs![j]!, y: rawOf(p, j), title: `row ${p.row}, output ${j}: on chain ${rawOf(p, j)}, reference ${p.referenceOutputs![j]}` })),
    }))
    return scatterChart('chart-outputs', 'On-chain vs reference outputs', series, { ...opts, xLabel: 'reference output (float)', yLabel: `on-chain output (raw / ${r.precision.scale})`, diagonal: true })
  }
  const lastAct = r.model.architecture[r.model.architecture.length - 1]?.activation ?? ''
  if (r.model.task === 'binary') {
    // each row's on-chain output, coloured by the reference's class; a disagreement sits on the wrong side
    const thr = lastAct.startsWith('sigmoid') ? 0.5 : 0
    const classes = [...new Set(preds.map((p) => String(p.reference)))].sort()
    const series: Series[] = classes.map((c, i) => ({
      name: `reference class ${c}`,
      color: COLORS.series[i % COLORS.series.length]!,
      points: preds.filter((p) => String(p.reference) === c && String(p.onchain) === String(p.reference)).map((p) => ({ x: p.row, y: rawOf(p, 0), title: `row ${p.row}: on-chain output ${rawOf(p, 0)} → class ${p.onchain}; reference class ${p.reference}` })),
    }))
    const dis = preds.filter((p) => String(p.onchain) !== String(p.reference))
    if (dis.length) series.push({ name: 'on chain ≠ reference', color: COLORS.ml2sc, shape: 'diamond', size: 5, points: dis.map((p) => ({ x: p.row, y: rawOf(p, 0), title: `row ${p.row}: on chain class ${p.onchain}, reference class ${p.reference}` })) })
    return scatterChart('chart-outputs', 'On-chain vs reference outputs', series, {
      ...opts,
      xLabel: 'test row',
      yLabel: `on-chain output (raw / ${r.precision.scale})`,
      hline: { y: thr, label: `class threshold ${thr}` },
      xTickLabel: (v) => String(v),
    })
  }
  // multiclass: every on-chain output of every row, the reference class's output ringed
  const n = preds[0]?.raw.length ?? 0
  const series: Series[] = Array.from({ length: n }, (_, j) => ({
    name: `output ${j}`,
    color: COLORS.series[j % COLORS.series.length]!,
    size: 3.5,
    points: preds.map((p) => ({ x: p.row, y: rawOf(p, j), title: `row ${p.row}, output ${j}: ${rawOf(p, j)}` })),
  }))
  series.push({
    name: 'reference class',
    color: '#0f172a',
    shape: 'ring',
    size: 7,
    points: preds.map((p) => ({ x: p.row, y: rawOf(p, Number(p.reference)), title: `row ${p.row}: reference class ${p.reference}, on-chain class ${p.onchain}` })),
  })
  return scatterChart('chart-outputs', 'On-chain vs reference outputs', series, { ...opts, xLabel: 'test row', yLabel: `on-chain output (raw / ${r.precision.scale})`, xTickLabel: (v) => String(v) })
}

function outputsCaption(r: Report): string {
  const acc = r.accuracy as Acc
  const answered = r.predictions.filter((p) => !p.error && p.raw.length).length
  const sampled = answered > MAX_SCATTER_ROWS ? ` ${MAX_SCATTER_ROWS} of ${fmtInt(answered)} rows shown, evenly sampled.` : ''
  const refused = r.rows.refused ? ` ${r.rows.refused} row(s) refused (outside the safe input range) are not drawn.` : ''
  if (r.model.task === 'regression') return `Each mark is one row: x = the float reference, y = what the contract returned. Agreement within 1e-3: ${pct(acc.agreement)}.${sampled}${refused}`
  const hasRef = (r.predictions as Pred[]).some((p) => Array.isArray(p.referenceOutputs))
  const what = hasRef
    ? 'Each mark is one output of one row: x = the float reference, y = what the contract returned.'
    : r.model.task === 'binary'
      ? "Each mark is one row's on-chain output (what the contract returned, at full precision), coloured by the float reference's class; a row where the classes disagree would be drawn as a red diamond."
      : "Each mark is one on-chain output of one row; the ring marks the output of the float reference's class, which should be the top mark of its column."
  return `${what} Same class as the reference: ${pct(acc.agreement)}; largest |on chain − reference| over all outputs ${r.error.maxAbs} (${fmtCompact(r.error.maxAbs * r.precision.unit)} units of 1/${r.precision.scale}).${sampled}${refused}`
}

/** The markdown lines' `code` and **bold**, as HTML (the text escaped first). */
const mdInline = (line: string) => esc(line).replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>').replace(/`([^`]+)`/g, '<code>$1</code>')

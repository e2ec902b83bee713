import type { Report } from './buildReport.ts'

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`)
const v = (x: number | null | undefined) => (x === null || x === undefined ? '–' : String(x))
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)

type HeadRow = NonNullable<Report['heads']>[number]

/** One head's cells: name, task, outputs, label column, on chain, reference, agreement, max error, tolerance. */
function cells(h: HeadRow): string[] {
  const metric = h.mae ? `MAE ${v(h.mae.onchain)} / RMSE ${v(h.rmse?.onchain)}` : `accuracy ${pct(h.accuracy?.onchain)}`
  const ref = h.mae ? `MAE ${v(h.mae.reference)} / RMSE ${v(h.rmse?.reference)}` : `accuracy ${pct(h.accuracy?.reference)}`
  const outs = h.size > 1 ? `${h.offset}–${h.offset + h.size - 1}` : String(h.offset)
  return [h.name + (h.returns ? ` (${h.returns})` : ''), h.task, outs, h.label ?? '–', metric, ref, h.agreement === null ? 'not claimed' : pct(h.agreement), String(h.maxAbsError), h.within ? 'within' : 'BEYOND']
}

const HEADER = ['head', 'task', 'outputs', 'label column', 'on chain vs label', 'reference vs label', 'agreement', 'max abs error', 'tolerance']

/** report.md: a multi-output model's heads, each with its own metric (nothing for a one-output model). */
export function headsMarkdown(r: Report): string[] {
  if (!r.heads?.length) return []
  return [
    '## Outputs (heads)',
    '',
    'The model returns several outputs; predict returns them one after another (the `outputs` column). The figures above are the first head\'s; each head is judged here with its own metric against its own label column, and against the reference.',
    '',
    `| ${HEADER.join(' | ')} |`,
    `|${HEADER.map(() => '---').join('|')}|`,
    ...r.heads.map((h) => `| ${cells(h).join(' | ')} |`),
    '',
  ]
}

/** report.html: the same table. */
export function headsHtml(r: Report): string {
  if (!r.heads?.length) return ''
  return `<h2>Outputs (heads)</h2>
  <p>predict returns the heads one after another; each is judged with its own metric against its own label column and the reference. The figures above are the first head's.</p>
  <table><tr>${HEADER.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>
  ${r.heads.map((h) => `<tr>${cells(h).map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('\n  ')}</table>`
}

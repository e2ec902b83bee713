import path from 'node:path'
import { writeAtomic } from '../files/writeAtomic.ts'
import type { Report } from './buildReport.ts'
import { renderReportMd } from './renderReportMd.ts'
import { readBenchResults, renderReportHtml } from './renderReportHtml.ts'

/**
 * predictions.csv: `row,label,onchain,reference` (a multi-output model: its first head's), then for a
 * multi-output model `<head>_label,<head>_onchain,<head>_reference` for every head.
 */
export function predictionsCsv(report: Report): string {
  const heads = report.heads?.map((h) => h.name) ?? []
  const lines = [['row,label,onchain,reference', ...heads.map((h) => `${h}_label,${h}_onchain,${h}_reference`)].join(',')]
  for (const p of report.predictions) {
    const per = heads.map((h) => p.heads?.[h]).map((v) => `${v?.label ?? ''},${p.error ? 'error' : (v?.onchain ?? '')},${v?.reference ?? ''}`)
    lines.push([`${p.row},${p.label},${p.error ? 'error' : p.onchain},${p.reference}`, ...per].join(','))
  }
  return lines.join('\n') + '\n'
}

export async function writeReports(dir: string, report: Report): Promise<string[]> {
  const files = {
    'report.json': JSON.stringify(report, null, 2) + '\n',
    'predictions.csv': predictionsCsv(report),
    'report.md': renderReportMd(report),
    'report.html': renderReportHtml(report, (({ rows, file }) => ({ bench: rows, benchFile: file }))(readBenchResults())),
  }
  for (const [name, text] of Object.entries(files)) await writeAtomic(path.join(dir, name), text)
  return Object.keys(files).map((f) => path.join(dir, f))
}

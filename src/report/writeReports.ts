import path from 'node:path'
import { writeAtomic } from '../files/writeAtomic.ts'
import type { Report } from './buildReport.ts'
import { renderReportMd } from './renderReportMd.ts'
import { readBenchResults, renderReportHtml } from './renderReportHtml.ts'

export function predictionsCsv(report: Report): string {
  const lines = ['row,label,onchain,reference']
  for (const p of report.predictions) lines.push(`${p.row},${p.label},${p.error ? 'error' : p.onchain},${p.reference}`)
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

import { mkdir, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Report } from './buildReport.ts'
import { renderReportMd } from './renderReportMd.ts'
import { readBenchResults, renderReportHtml } from './renderReportHtml.ts'

/** Write a file whole or not at all: a temp file renamed into place, so nothing half-written is left. */
export async function writeAtomic(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true })
  const tmp = `${file}.tmp-${process.pid}`
  await writeFile(tmp, text)
  await rename(tmp, file)
}

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

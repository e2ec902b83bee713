import { open } from 'node:fs/promises'
import { DataError } from '../errors/base.ts'

/** Target-column names, most likely first (case-insensitive); otherwise the last column is the label. */
export const LABEL_NAMES = ['label', 'target', 'y', 'class', 'diagnosis']
/** Columns that are never features. */
const ID_NAMES = /^(id|index|idx|row|unnamed: ?0|)$/i

export type DataGuess = {
  header: string[]
  label: string
  /** Why that column: it has a label-like name, it is the last one, or its values are the model's classes. */
  labelHow: 'name' | 'last' | 'values'
  /** Id-like or non-numeric columns (from a sample of the rows). */
  drop: string[]
  features: number
  /** From the label values in the sample: 0/1 → binary; other integers → multiclass; else regression. */
  task: 'binary' | 'multiclass' | 'regression' | undefined
  sampleRows: number
  /** The sampled data rows (cells as text), for a second look once the model is known. */
  sample: string[][]
}

/** Split one CSV line (quotes respected; a sample, so a quoted newline just ends the sample early). */
function cells(line: string): string[] {
  const out: string[] = []
  let cur = ''
  let q = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (q) {
      if (c === '"' && line[i + 1] === '"') (cur += '"'), i++
      else if (c === '"') q = false
      else cur += c
    } else if (c === '"') q = true
    else if (c === ',') out.push(cur), (cur = '')
    else cur += c
  }
  out.push(cur)
  return out.map((s) => s.trim())
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

/** Guess the label column, the non-feature columns and the task from the header and the first rows. */
export async function guessData(file: string, opts: { sampleBytes?: number; label?: string } = {}): Promise<DataGuess> {
  let text: string
  const fh = await open(file, 'r').catch((e) => {
    throw new DataError('cannot open the CSV file', { where: file, cause: e })
  })
  try {
    const buf = Buffer.alloc(opts.sampleBytes ?? 256 * 1024)
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0)
    text = buf.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '')
    if (bytesRead === buf.length) text = text.slice(0, text.lastIndexOf('\n') + 1)
  } finally {
    await fh.close()
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '')
  if (lines.length === 0) throw new DataError('the CSV file is empty', { where: file, hint: 'the first line must name the columns' })
  const header = cells(lines[0]!)
  const rows = lines.slice(1).map(cells).filter((r) => r.length === header.length)
  const forced = opts.label === undefined ? -1 : header.indexOf(opts.label)
  const byName = forced >= 0 ? undefined : LABEL_NAMES.map((n) => header.findIndex((h) => h.toLowerCase() === n)).find((i) => i >= 0)
  const labelIndex = forced >= 0 ? forced : (byName ?? header.length - 1)
  const label = header[labelIndex]!
  const drop = header.filter((h, i) => i !== labelIndex && (ID_NAMES.test(h) || rows.some((r) => !NUMBER.test(r[i]!))))
  const values = rows.map((r) => r[labelIndex]!.toLowerCase()).map((v) => (v === 'true' ? '1' : v === 'false' ? '0' : v))
  let task: DataGuess['task']
  if (values.length && values.every((v) => NUMBER.test(v))) {
    const nums = values.map(Number)
    if (nums.every((x) => x === 0 || x === 1)) task = 'binary'
    else if (nums.every((x) => Number.isInteger(x) && x >= 0) && new Set(nums).size <= 50) task = 'multiclass'
    else task = 'regression'
  }
  const labelHow = forced >= 0 ? 'values' : byName === undefined ? 'last' : 'name'
  return { header, label, labelHow, drop, features: header.length - 1 - drop.length, task, sampleRows: rows.length, sample: rows }
}

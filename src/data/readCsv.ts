/**
 * Streaming CSV reader for test sets: memory stays flat however many rows the file has.
 *
 * RFC 4180, leniently: a header row, comma separators, optional double-quoted fields (`""` is a quote
 * inside one, and they may span lines), LF or CRLF line ends, a UTF-8 BOM and blank lines ignored.
 * Features are every column except the label and the `drop` columns, in header order.
 */
import { createReadStream } from 'node:fs'
import { DataError } from '../errors/base.ts'
import { checkSeparator, parseCell } from './parseCell.ts'

export { NUMBER } from './parseCell.ts'

export type ReadOptions = {
  /** Target column (default `label`); `null`: the file has no label column to read (every column is a feature or dropped). */
  label?: string | null
  /** Class names in output order (`data.classes`): a label cell holding one of them reads as its index. */
  classes?: string[]
  /** Columns that are not features. */
  drop?: string[]
  /** Stop after this many data rows. */
  limit?: number
  /** Expected feature count (the model's input size); checked against the header before any row. */
  features?: number
  /** Whether the label column must exist (default true). When false and absent, `label` is undefined. */
  requireLabel?: boolean
  /** Read-chunk size in bytes (default 64 KiB); small values let tests cross every chunk boundary. */
  chunkBytes?: number
}

export type Row = {
  /** 0-based index of the data row (the header is not a row). */
  row: number
  features: number[]
  label: number | undefined
}

/** Which columns are what, worked out from the header. */
export type Columns = {
  header: string[]
  /** Index of the label column in the header, or -1. */
  labelIndex: number
  /** Header indices of the features, in header order. */
  featureIndices: number[]
  featureNames: string[]
}

type CsvRecord = { cells: string[]; line: number }

const QUOTE = 34
const COMMA = 44
const LF = 10
const CR = 13

/** Splits a CSV file into records, streaming. `line` is the 1-based line each record starts on. */
async function* records(file: string, chunkBytes = 1 << 16): AsyncGenerator<CsvRecord> {
  let stream: ReturnType<typeof createReadStream>
  try {
    stream = createReadStream(file, { encoding: 'utf8', highWaterMark: chunkBytes })
  } catch (cause) {
    throw new DataError('cannot open the CSV file', { where: file, cause })
  }
  // Parser state, carried across chunks.
  const START = 0 // at the start of a field
  const PLAIN = 1 // inside an unquoted field
  const QUOTED = 2 // inside a quoted field
  const CLOSED = 3 // just after a quote inside a quoted field: `""`, or the field's end
  let state = START
  let cells: string[] = []
  let field = ''
  let line = 1
  let recordLine = 1
  let skipLF = false
  let first = true
  const iterator = stream[Symbol.asyncIterator]()
  try {
    while (true) {
      let next: IteratorResult<string>
      try {
        next = await iterator.next()
      } catch (cause) {
        const code = (cause as NodeJS.ErrnoException).code
        throw new DataError(code === 'ENOENT' ? 'CSV file not found' : 'cannot read the CSV file', {
          where: file,
          hint: code === 'ENOENT' ? 'paths in the config are relative to the config file' : undefined,
          cause,
        })
      }
      if (next.done) break
      let s = next.value
      if (first && s.length > 0) {
        first = false
        if (s.charCodeAt(0) === 0xfeff) s = s.slice(1)
      }
      const out: CsvRecord[] = []
      let start = 0
      /** A line break ends the record: its last cell is `last`; a CR may be followed by the LF of a CRLF. */
      const endRecord = (last: string, c: number) => {
        cells.push(last)
        field = ''
        out.push({ cells, line: recordLine })
        cells = []
        state = START
        skipLF = c === CR
        line++
        recordLine = line
      }
      // the next quote and CR of this chunk (-1: none), for the fast path over plain lines
      let nextQuote = s.indexOf('"')
      let nextCR = s.indexOf('\r')
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i)
        if (skipLF) {
          skipLF = false
          if (c === LF) {
            start = i + 1
            continue
          }
        }
        // a whole line with no quote and no CR in it (a CRLF's CR aside): split at the commas in one go
        if (state === START && cells.length === 0 && c !== LF && c !== CR) {
          const lf = s.indexOf('\n', i)
          if (nextQuote >= 0 && nextQuote < i) nextQuote = s.indexOf('"', i)
          if (nextCR >= 0 && nextCR < i) nextCR = s.indexOf('\r', i)
          const end = lf > i && s.charCodeAt(lf - 1) === CR ? lf - 1 : lf
          if (lf > i && (nextQuote < 0 || nextQuote > lf) && (nextCR < 0 || nextCR >= end)) {
            out.push({ cells: s.slice(i, end).split(','), line: recordLine })
            line++
            recordLine = line
            i = lf
            continue
          }
        }
        switch (state) {
          case START:
            if (c === QUOTE) {
              state = QUOTED
              start = i + 1
            } else if (c === COMMA) cells.push('')
            else if (c === LF || c === CR) {
              if (cells.length > 0) {
                cells.push('')
                out.push({ cells, line: recordLine })
                cells = []
              }
              skipLF = c === CR
              line++
              recordLine = line
            } else {
              state = PLAIN
              start = i
            }
            break
          case PLAIN:
            if (c === COMMA) {
              cells.push(field + s.slice(start, i))
              field = ''
              state = START
            } else if (c === LF || c === CR) endRecord(field + s.slice(start, i), c)
            break
          case QUOTED:
            if (c === QUOTE) {
              field += s.slice(start, i)
              state = CLOSED
            } else if (c === LF) line++
            break
          case CLOSED:
            if (c === QUOTE) {
              field += '"'
              state = QUOTED
              start = i + 1
            } else if (c === COMMA) {
              cells.push(field)
              field = ''
              state = START
            } else if (c === LF || c === CR) endRecord(field, c)
            else if (c !== 32 && c !== 9) {
              throw new DataError('text after the closing quote of a quoted field', {
                where: `${file}:${line}`,
                hint: 'write a quote inside a quoted field as ""',
              })
            }
            break
        }
      }
      if (state === PLAIN || state === QUOTED) field += s.slice(start)
      for (const r of out) yield r
    }
    if (state === QUOTED)
      throw new DataError('unterminated quoted field', {
        where: `${file}:${recordLine}`,
        hint: 'a field that starts with " must end with "',
      })
    if (state !== START || cells.length > 0) {
      cells.push(field)
      yield { cells, line: recordLine }
    }
  } finally {
    stream.destroy()
  }
}

/** The header row's column names. */
export async function readHeader(file: string): Promise<string[]> {
  for await (const r of records(file)) return r.cells.map((c) => c.trim())
  throw new DataError('the CSV file is empty', { where: file, hint: 'the first line must name the columns' })
}

/**
 * Column names (`data.label`, `data.drop`, predict's input header) match exactly, case included: 'Age' and
 * 'age' are two columns. For a name not found, the column that differs from it only in case, if any, so
 * that the error can say so (`exactCaseHint`).
 */
export function caseTwin(name: string, names: string[]): string | undefined {
  return names.find((n) => n !== name && n.toLowerCase() === name.toLowerCase())
}
export const exactCaseHint = (name: string, twin: string) => `column names match exactly, case included: the header has '${twin}', not '${name}'`
const twinHint = (name: string, header: string[]) => {
  const twin = caseTwin(name, header)
  return twin === undefined ? undefined : `${exactCaseHint(name, twin)} (write it as the header does)`
}

/** Works out the label and feature columns of a header; throws the DataErrors for a mismatched config. */
export function columnsOf(header: string[], file: string, opts: ReadOptions = {}): Columns {
  const label = opts.label === null ? undefined : (opts.label ?? 'label')
  const drop = opts.drop ?? []
  const where = `${file}:1`
  checkSeparator(header, where)
  const list = header.map((h) => `'${h}'`).join(', ')
  const seen = new Set<string>()
  for (const name of header) {
    if (seen.has(name))
      throw new DataError(`column '${name}' appears twice in the header`, { where, hint: 'rename one of them' })
    seen.add(name)
  }
  const labelIndex = label === undefined ? -1 : header.indexOf(label)
  if (label !== undefined && labelIndex < 0 && (opts.requireLabel ?? true))
    throw new DataError(`no label column '${label}'; the columns are ${list}`, {
      where,
      hint: twinHint(label, header) ?? 'set data.label to the name of the target column',
    })
  for (const name of drop)
    if (!header.includes(name))
      throw new DataError(`data.drop names '${name}', which is not a column; the columns are ${list}`, {
        where,
        hint: twinHint(name, header) ?? 'remove it from data.drop or fix its spelling',
      })
  const featureIndices: number[] = []
  header.forEach((name, i) => {
    if (i !== labelIndex && !drop.includes(name)) featureIndices.push(i)
  })
  const featureNames = featureIndices.map((i) => header[i])
  if (opts.features !== undefined && featureIndices.length !== opts.features) {
    const more = featureIndices.length > opts.features
    // one column too many and no label column: the label is most likely that column under another name
    const noLabel = label !== undefined && labelIndex < 0 && featureIndices.length === opts.features + 1
    throw new DataError(
      `${featureIndices.length} feature columns${noLabel ? ` and no label column '${label}'` : ''}, but the model takes ${opts.features} inputs`,
      {
        where,
        hint: noLabel
          ? (twinHint(label!, header) ?? `set data.label to the name of the target column (the columns are ${list})`)
          : more
          ? `the model's input size is ${opts.features}: list the ${featureIndices.length - opts.features} extra columns in data.drop, or set data.label`
          : `the model's input size is ${opts.features}: check data.drop and data.label (features: ${featureNames.join(', ')})`,
      },
    )
  }
  if (featureIndices.length === 0)
    throw new DataError('no feature columns left after the label and data.drop', { where, hint: 'check data.drop' })
  return { header, labelIndex, featureIndices, featureNames }
}

/** Streams the data rows of a CSV file as numbers. */
export async function* readRows(file: string, opts: ReadOptions = {}): AsyncGenerator<Row> {
  let columns: Columns | undefined
  let row = 0
  const limit = opts.limit ?? Infinity
  if (limit <= 0) return
  for await (const r of records(file, opts.chunkBytes)) {
    if (!columns) {
      columns = columnsOf(
        r.cells.map((c) => c.trim()),
        file,
        opts,
      )
      continue
    }
    const where = `${file}:${r.line}`
    if (r.cells.length !== columns.header.length)
      throw new DataError(`row ${row} has ${r.cells.length} cells, but the header has ${columns.header.length} columns`, {
        where,
        hint: 'every row needs one value per column; quote values that contain commas',
      })
    const features = new Array<number>(columns.featureIndices.length)
    for (let k = 0; k < features.length; k++) {
      const i = columns.featureIndices[k]
      features[k] = parseCell(r.cells[i], row, columns.header[i], where, false)
    }
    let label: number | undefined
    if (columns.labelIndex >= 0) {
      const cell = r.cells[columns.labelIndex]
      label =
        cell.trim() === '' && opts.requireLabel === false
          ? undefined
          : parseCell(cell, row, columns.header[columns.labelIndex], where, true, opts.classes)
    }
    yield { row, features, label }
    row++
    if (row >= limit) return
  }
  if (!columns) throw new DataError('the CSV file is empty', { where: file, hint: 'the first line must name the columns' })
  if (row === 0) throw new DataError('the CSV file has a header but no rows', { where: `${file}:1` })
}

/** Reads every row into arrays; for small files. */
export async function readAllRows(
  file: string,
  opts: ReadOptions = {},
): Promise<{ features: number[][]; labels: (number | undefined)[]; rows: number[] }> {
  const features: number[][] = []
  const labels: (number | undefined)[] = []
  const rows: number[] = []
  for await (const r of readRows(file, opts)) {
    features.push(r.features)
    labels.push(r.label)
    rows.push(r.row)
  }
  return { features, labels, rows }
}

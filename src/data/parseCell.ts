import { DataError } from '../errors/base.ts'

/** One CSV cell as a number (a label may also be true/false or a data.classes name), and the separator check. */

const SEPARATORS: [string, string][] = [
  [';', 'semicolons (;)'],
  ['\t', 'tabs'],
]

/** A header read as one column that holds `;` or tabs: the file is separated by those, not by commas. */
export function checkSeparator(header: string[], where: string): void {
  if (header.length !== 1) return
  for (const [sep, name] of SEPARATORS)
    if (header[0]!.includes(sep))
      throw new DataError(`the CSV is separated by ${name}, not commas (its header reads as one column '${header[0]!.slice(0, 40)}${header[0]!.length > 40 ? '…' : ''}')`, {
        where,
        hint: `save it with commas, e.g. \`python3 -c "import pandas as p; p.read_csv('in.csv', sep='${sep === '\t' ? '\\t' : sep}').to_csv('out.csv', index=False)"\``,
      })
}

export const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

/**
 * A cell that NUMBER accepts as it stands (no spaces around it), read without trimming or a regular
 * expression: the common case of a large CSV. Undefined for anything else (then parseCell decides).
 */
function plainNumber(s: string): number | undefined {
  let i = 0
  let c = s.charCodeAt(0)
  if (c === 43 || c === 45) c = s.charCodeAt(++i) // + -
  let digits = 0
  while (c >= 48 && c <= 57) (digits++, (c = s.charCodeAt(++i)))
  if (c === 46) {
    c = s.charCodeAt(++i) // .
    while (c >= 48 && c <= 57) (digits++, (c = s.charCodeAt(++i)))
  }
  if (digits === 0) return undefined
  if (c === 101 || c === 69) {
    c = s.charCodeAt(++i) // e E
    if (c === 43 || c === 45) c = s.charCodeAt(++i)
    let e = 0
    while (c >= 48 && c <= 57) (e++, (c = s.charCodeAt(++i)))
    if (e === 0) return undefined
  }
  return i === s.length ? Number(s) : undefined
}

export function parseCell(text: string, row: number, column: string, where: string, isLabel: boolean, classes?: string[]): number {
  if (!(isLabel && classes)) {
    const v = plainNumber(text)
    if (v !== undefined) return v
  }
  const t = text.trim()
  if (isLabel && classes) {
    const k = classes.indexOf(t)
    if (k >= 0) return k
  }
  if (NUMBER.test(t)) return Number(t)
  if (isLabel) {
    const lower = t.toLowerCase()
    if (lower === 'true') return 1
    if (lower === 'false') return 0
  }
  throw new DataError(t === '' ? `row ${row}, column '${column}' is empty` : `row ${row}, column '${column}': '${t}' is not a number${isLabel && classes ? ` nor one of data.classes (${classes.join(', ')})` : ''}`, {
    where,
    hint: isLabel
      ? classes
        ? `add '${t}' to data.classes (class names in output order)`
        : t === ''
        ? 'every test row needs a label'
        : 'labels must be numbers (class indices or regression targets); for text labels list the class names in output order in data.classes'
      : 'features must be numbers; list text columns in data.drop',
  })
}

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

export function parseCell(text: string, row: number, column: string, where: string, isLabel: boolean, classes?: string[]): number {
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

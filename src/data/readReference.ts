import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { DataError } from '../errors/base.ts'
import { NUMBER } from './readCsv.ts'

/** Column names of a row index that a reference file may carry (pandas' `index`, a `row` column). */
const INDEX_COLUMNS = new Set(['row', 'index', 'idx', 'id', ''])

/**
 * `data.reference`: PyTorch's own outputs for the test rows, one row per test row and one value per output,
 * as `np.savetxt` writes them (comma- or whitespace-separated, `#` comments). A header row is optional;
 * a column it names `row` (or `index`) is a row index and is skipped.
 */
export async function readReference(file: string, outputs: number): Promise<number[][]> {
  const shown = path.relative(process.cwd(), file) || file
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (cause) {
    throw new DataError('cannot read the reference outputs', { where: `data.reference (${shown})`, hint: 'paths in the config are relative to the config file', cause })
  }
  const lines = text.replace(/^\ufeff/, '').split(/\r?\n/)
  const split = (l: string) => (l.includes(',') ? l.split(',') : l.trim().split(/\s+/)).map((c) => c.trim().replace(/^"(.*)"$/, '$1'))
  let skip: number | undefined
  const rows: number[][] = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === '' || line.startsWith('#')) continue
    const cells = split(line)
    if (rows.length === 0 && skip === undefined && !cells.every((c) => NUMBER.test(c))) {
      // a header: remember a row-index column to skip
      const k = cells.findIndex((c) => INDEX_COLUMNS.has(c.toLowerCase()))
      skip = k >= 0 && cells.length === outputs + 1 ? k : -1
      continue
    }
    const values = skip !== undefined && skip >= 0 ? cells.filter((_, k) => k !== skip) : cells
    const where = `${shown}:${i + 1}`
    if (values.length !== outputs)
      throw new DataError(`the reference has ${values.length} value${values.length === 1 ? '' : 's'} on this line, but the model has ${outputs} output${outputs === 1 ? '' : 's'}`, {
        where,
        hint: 'data.reference holds one row per test row and one column per model output (the model\'s final outputs, after its last activation)',
      })
    const nums = values.map((v) => (NUMBER.test(v) ? Number(v) : NaN))
    const bad = nums.findIndex((v) => !Number.isFinite(v))
    if (bad >= 0) throw new DataError(`'${values[bad]}' in the reference is not a number`, { where, hint: 'the reference holds the outputs PyTorch computed, as numbers' })
    rows.push(nums)
  }
  if (rows.length === 0) throw new DataError('the reference file has no rows', { where: `data.reference (${shown})` })
  return rows
}

/**
 * The reference outputs for the test rows evaluated: one per test row. Without data.limit the counts must
 * be equal; with it, the reference may hold more rows (the first ones are used).
 */
export function referenceFor(reference: number[][], rows: number, limited: boolean, file: string): number[][] {
  if (reference.length === rows || (limited && reference.length > rows)) return reference.slice(0, rows)
  const shown = path.relative(process.cwd(), file) || file
  throw new DataError(`the reference has ${reference.length} rows, but the test CSV has ${rows}${limited ? ' (data.limit)' : ''}`, {
    where: `data.reference (${shown})`,
    hint: 'write PyTorch\'s outputs for exactly the rows of data.test, in the same order',
  })
}

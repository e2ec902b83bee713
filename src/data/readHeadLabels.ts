import type { Config } from '../config/types.ts'
import { readRows } from './readCsv.ts'

/**
 * A multi-output model's labels: data.label as a list names one column per head. Returns, for each wanted
 * row number, each head's label (undefined where the cell is empty). The first head's column is read as a
 * single data.label is (data.classes apply to it); the others are numbers (a class index or a value).
 */
export async function readHeadLabels(config: Pick<Config, 'data'>, rowNumbers: number[]): Promise<(number | undefined)[][]> {
  const columns = config.data.labels ?? [config.data.label]
  const byRow = new Map<number, (number | undefined)[]>(rowNumbers.map((r) => [r, new Array<number | undefined>(columns.length)]))
  for (const [k, column] of columns.entries()) {
    // every other label column is dropped, so that only this one is read as the label
    const drop = [...config.data.drop.filter((d) => d !== column), ...(k > 0 ? [columns[0]!] : [])]
    for await (const r of readRows(config.data.test, { label: column, drop, limit: config.data.limit, requireLabel: false, ...(k === 0 && config.data.classes ? { classes: config.data.classes } : {}) })) {
      const at = byRow.get(r.row)
      if (at) at[k] = r.label
    }
  }
  return rowNumbers.map((r) => byRow.get(r)!)
}

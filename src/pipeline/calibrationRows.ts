import { categoryOf, type CategoricalInput } from '../ir/categorical.ts'
import path from 'node:path'
import type { Config } from '../config/types.ts'
import { readRows } from '../data/readCsv.ts'
import { readReference } from '../data/readReference.ts'
import { DataError } from '../errors/base.ts'
import type { FeatureRange } from './autoInputs.ts'
import type { Calibration } from '../report/rowTypes.ts'

/** Without data.calibration, `precision: auto` chooses on this share of the test rows (the first ones)… */
export const CALIBRATION_SHARE = 0.2
/** …at most this many… */
export const CALIBRATION_MAX_ROWS = 200
/** …and on none when the test set has fewer rows than this (auto then chooses without rows). */
export const CALIBRATION_MIN_TEST_ROWS = 5
/** Rows auto simulates at most (the choice is per width; the first rows of the calibration set). */
const SAMPLE_ROWS = 1_000


export type CalibrationSample = {
  /** The feature rows auto chooses on (at most SAMPLE_ROWS). */
  rows: number[][]
  /** The smallest and largest feature over every test row (and calibration row): room for the calldata width. */
  range: FeatureRange
  /** PyTorch's outputs (data.reference) for `rows`, when they are test rows and the config has it. */
  reference?: number[][]
  /** Undefined when no width is chosen (`rows` are then the test rows, for the precision warnings only). */
  calibration?: Calibration
}

/** How many of `n` test rows are calibration rows when the config has no data.calibration. */
export const heldOutCount = (n: number) => (n < CALIBRATION_MIN_TEST_ROWS ? 0 : Math.min(CALIBRATION_MAX_ROWS, Math.floor(n * CALIBRATION_SHARE)))

async function read(config: Config, file: string, features: number, limit?: number, categorical?: CategoricalInput[]) {
  const rows: { row: number; features: number[] }[] = []
  const range = { min: Infinity, max: -Infinity }
  let count = 0
  for await (const r of readRows(file, { label: config.data.label, drop: config.data.drop, limit, requireLabel: false, features, classes: config.data.classes })) {
    // an nn.Embedding column must hold category indices: one line naming the row and the column
    for (const cat of categorical ?? []) {
      const k = categoryOf(r.features[cat.column]!, cat)
      if (typeof k === 'string') throw new DataError(`row ${r.row}, feature ${cat.column}: ${k}`, { where: path.relative(process.cwd(), file) || file, hint: 'a categorical column holds whole indices from 0 to num_embeddings − 1' })
    }
    for (const x of r.features) (range.min = Math.min(range.min, x)), (range.max = Math.max(range.max, x))
    if (rows.length < SAMPLE_ROWS) rows.push({ row: r.row, features: r.features })
    count++
  }
  return { rows, range, count }
}

/**
 * The rows a config's precision is judged on. With an `auto` key, its calibration rows: data.calibration's rows, else the
 * first CALIBRATION_SHARE of the test rows (undefined when the test set is too small to hold any out, or
 * there is no test set). The feature range spans the test rows too, so that the calldata width holds them.
 */
export async function calibrationSample(config: Config, features: number, outputs: number, categorical?: CategoricalInput[]): Promise<CalibrationSample | undefined> {
  if (!config.data.test) return undefined
  const test = await read(config, config.data.test, features, config.data.limit, categorical)
  // nothing to choose: the test rows only measure the pinned widths' error (precision warnings)
  if (config.precision.weights !== 'auto' && config.precision.inputs !== 'auto') return { rows: test.rows.map((r) => r.features), range: test.range }
  if (config.data.calibration) {
    const cal = await read(config, config.data.calibration, features, undefined, categorical)
    if (!cal.count) throw new DataError('data.calibration has no rows', { where: `data.calibration (${path.relative(process.cwd(), config.data.calibration) || config.data.calibration})`, hint: 'give rows with the columns of data.test, or remove data.calibration to calibrate on the first 20% of the test rows' })
    const range = { min: Math.min(test.range.min, cal.range.min), max: Math.max(test.range.max, cal.range.max) }
    const file = path.relative(config.dir, config.data.calibration) || path.basename(config.data.calibration)
    return { rows: cal.rows.map((r) => r.features), range, calibration: { source: 'data.calibration', file, first: cal.rows[0]!.row, last: cal.rows[0]!.row + cal.count - 1, count: cal.count } }
  }
  const k = heldOutCount(test.count)
  if (!k) return undefined
  const held = test.rows.slice(0, k)
  const reference = config.data.reference ? (await readReference(config.data.reference, outputs)).slice(0, k) : undefined
  return {
    rows: held.map((r) => r.features),
    range: test.range,
    ...(reference && reference.length === k ? { reference } : {}),
    calibration: { source: 'test rows', first: held[0]!.row, last: held[k - 1]!.row, count: k },
  }
}


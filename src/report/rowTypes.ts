// The row-level types the report reads: what evaluation produced for one test row, and which rows the
// precision was chosen on. They live here, below the pipeline that fills them, so that report/ never
// imports from pipeline/.

/** One test row's outcome: its CSV row number, label, features, the quantised inputs and raw outputs, or why it was refused. */
export type RowResult = { row: number; label: number | undefined; features: number[]; input?: bigint[]; raw?: bigint[]; error?: string }

/**
 * The rows `precision: auto` chose its widths on, as plan.json and report.json name them. `test rows`:
 * the first `count` rows of data.test (0-based row numbers `first`…`last`, as predictions.csv numbers
 * them), whose accuracy and agreement are then not reported; `data.calibration`: rows of that file.
 */
export type Calibration = {
  source: 'data.calibration' | 'test rows'
  file?: string
  first: number
  last: number
  count: number
}

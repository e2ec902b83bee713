import { existsSync } from 'node:fs'
import path from 'node:path'
import type { Config } from '../config/types.ts'
import { DataError } from '../errors/base.ts'
import { encodeRow, encodeRowInto } from '../fixed/encodeRows.ts'
import { simulateNumericRows } from '../fixed/simulateBatch.ts'
import type { Plan } from '../fixed/types.ts'
import { caseTwin, columnsOf, exactCaseHint, NUMBER, readHeader, readRows } from './readCsv.ts'

/** One input row: its features in the model's order, and either the encoded input or why it is refused. */
export type InputRow = { row: number; features: number[]; input?: bigint[]; error?: string; /** The answer, when readPredictInput answered off chain. */ raw?: bigint[] }

const quoted = (names: string[], max = 8) => names.slice(0, max).map((n) => `'${n}'`).join(', ') + (names.length > max ? `, … (${names.length} in all)` : '')

/**
 * The model's feature names, in input order: the header of the config's test CSV without the label and
 * `data.drop` columns (what `run` fed the model). Undefined when the config has no test CSV.
 */
export async function featureNamesOf(config: Config, plan: Plan): Promise<string[] | undefined> {
  const test = config.data.test
  if (!test || !existsSync(test)) return undefined
  const header = await readHeader(test)
  return columnsOf(header, test, { label: config.data.label, drop: config.data.drop, features: plan.inputSize, requireLabel: false }).featureNames
}

/**
 * Which column of the input holds each feature, matched by header name against the config's features:
 * the same names in another order give the same answers; the label and `data.drop` columns are ignored;
 * a missing or unknown column, or a file without a header, is one error naming the columns.
 */
export function matchColumns(header: string[], expected: string[] | undefined, config: Config, plan: Plan, where: string): { ignore: string[]; order: string[] } {
  const ignorable = new Set([config.data.label, ...config.data.drop])
  const featureHint = expected ? `the header must name the model's ${expected.length} features: ${quoted(expected)}` : undefined
  if (header.length > 0 && header.every((h) => NUMBER.test(h)))
    throw new DataError(`the input has no header row (its first line is numbers)`, {
      where,
      hint: featureHint ? `add a header line: ${featureHint}` : `add a header line naming the ${plan.inputSize} feature columns`,
    })
  const ignore = header.filter((h) => ignorable.has(h) && !expected?.includes(h))
  const given = header.filter((h) => !ignore.includes(h))
  if (!expected) {
    // no test CSV in the config to name the features: the columns are taken in the order the file has them
    if (given.length !== plan.inputSize)
      throw new DataError(`${given.length} feature columns (${quoted(given)}), but the model takes ${plan.inputSize} inputs`, {
        where,
        hint: `give exactly ${plan.inputSize} feature columns; a column named '${config.data.label}' (data.label) and the data.drop columns are ignored`,
      })
    return { ignore, order: given }
  }
  const missing = expected.filter((n) => !given.includes(n))
  const unknown = given.filter((n) => !expected.includes(n))
  if (missing.length || unknown.length) {
    const parts = [missing.length ? `missing ${quoted(missing)}` : '', unknown.length ? `unknown ${quoted(unknown)}` : ''].filter(Boolean)
    // names match exactly, case included (as data.label and data.drop do: readCsv.ts)
    // (a feature, or the label / a data.drop column, which are ignored only when spelt exactly)
    const twin = [...missing, ...ignorable].map((n) => [n, caseTwin(n, unknown)] as const).find(([, t]) => t !== undefined)
    throw new DataError(`the input's columns do not match the model's features: ${parts.join('; ')}`, {
      where,
      hint: twin ? `${exactCaseHint(twin[0], twin[1]!)}: name the model's features as ${path.basename(config.data.test!)} does` : `name the model's ${expected.length} features in the header, in any order: they are the columns of ${path.basename(config.data.test!)} without '${config.data.label}' and data.drop (such columns here are ignored)`,
    })
  }
  return { ignore, order: given }
}

/** Rows answered off chain at a time (one flat batch of doubles for the simulator). */
const OFFCHAIN_BATCH = 256

/**
 * Read the rows of the input CSV, features put in the model's order and encoded at the plan's scale.
 * `offchain`: the rows are answered by the simulator as they are read, a batch at a time (simulateBatch.ts:
 * encoded straight into doubles, the BigInt simulator only for a row that needs it), and each keeps only its
 * answer (no features, no encoded input), so memory and garbage collection stay small for a large file.
 */
export async function readPredictInput(file: string, config: Config, plan: Plan, offchain = false): Promise<InputRow[]> {
  const input = path.resolve(file)
  if (!existsSync(input)) throw new DataError('input CSV not found', { where: file, hint: 'give the rows to answer with --input rows.csv' })
  const header = await readHeader(input)
  const expected = await featureNamesOf(config, plan)
  const { ignore, order } = matchColumns(header, expected, config, plan, `${file}:1`)
  const names = expected ?? order
  const perm = names.map((n) => order.indexOf(n))
  // the label column (if any) is dropped unread: predict never needs it, and it may hold anything
  const opts = { label: null, drop: ignore, features: plan.inputSize }
  const rows: InputRow[] = []
  const batch = offchain ? new OffchainBatch(plan, names) : undefined
  for await (const r of readRows(input, opts)) {
    const features = perm.map((k) => r.features[k]!)
    if (batch) {
      const error = batch.add(r.row, features)
      if (error) rows.push({ row: r.row, features: [], error })
      else if (batch.full()) rows.push(...batch.answer())
      continue
    }
    const enc = encodeRow(plan, features, names)
    rows.push({ row: r.row, features, ...(enc.ok ? { input: enc.values } : { error: `row ${r.row}: ${enc.error}` }) })
  }
  if (batch) rows.push(...batch.answer())
  return rows.sort((a, b) => a.row - b.row)
}

/** Rows waiting for the simulator: their encoded inputs in one Float64Array, answered together. */
class OffchainBatch {
  private x: Float64Array
  private ok = new Uint8Array(OFFCHAIN_BATCH)
  private pending: { row: number; features: number[] }[] = []
  constructor(
    private plan: Plan,
    private names: string[],
  ) {
    this.x = new Float64Array(OFFCHAIN_BATCH * plan.inputSize)
  }
  /** Encodes the row into the batch; the refusal's text when it is outside the safe input range. */
  add(row: number, features: number[]): string | undefined {
    const e = encodeRowInto(this.plan, features, this.names, this.x, this.pending.length)
    if ('error' in e) return `row ${row}: ${e.error}`
    this.ok[this.pending.length] = e.exact ? 1 : 0
    this.pending.push({ row, features })
    return undefined
  }
  full = () => this.pending.length === OFFCHAIN_BATCH
  answer(): InputRow[] {
    const n = this.pending.length
    const rows = { rows: n, width: this.plan.inputSize, x: this.x.subarray(0, n * this.plan.inputSize), ok: this.ok.slice(0, n) }
    const big = (r: number) => (encodeRow(this.plan, this.pending[r]!.features) as { values: bigint[] }).values
    const out = simulateNumericRows(this.plan, rows, big).map((raw, r) => ({ row: this.pending[r]!.row, features: [], raw }))
    this.pending = []
    return out
  }
}

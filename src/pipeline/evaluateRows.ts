import { MAX_BATCH_CALLDATA } from '../chain/limits.ts'
import type { Abi, Hex } from 'viem'
import type { Config } from '../config/types.ts'
import { ConfigError } from '../errors/base.ts'
import { batchGasLimit, measureBatchGas, predictBatchEstimate, submitPredictBatch, type BatchGas, type GasRecord } from '../chain/evaluateOnChain.ts'
import { rateText } from '../ui/rateText.ts'
import { AdaptiveWindow, underWindow } from '../chain/adaptiveWindow.ts'
import type { ChainSession } from '../chain/connectChain.ts'
import { readRows, type ReadOptions } from '../data/readCsv.ts'
import { encodeRow, encodeRowInto } from '../fixed/encodeRows.ts'
import { readReference, referenceFor } from '../data/readReference.ts'
import type { Plan } from '../fixed/types.ts'
import type { Logger } from '../ui/logger.ts'
import type { RowResult } from '../report/rowTypes.ts'

/** Evaluation transactions sent before the oldest one's receipt is awaited (calls: an AdaptiveWindow). */
export const IN_FLIGHT = 8

export type Evaluation = { rows: RowResult[]; txs: GasRecord[]; batchRows: number; inferenceGas: number; evaluatedRows: number }

export type EvaluateOptions = {
  /**
   * What the result keeps of each row: `true` (default) everything (features, inputs, outputs); `'outputs'`
   * the row number, label, outputs or error (and the first answerable row's inputs) — a few dozen bytes a
   * row; `false` nothing (use onBatch): memory stays flat whatever the size of the CSV.
   */
  keepRows?: boolean | 'outputs'
  /** Called after each batch is answered with its rows in CSV order (refused rows included, with `error`). */
  onBatch?: (rows: RowResult[]) => void | Promise<void>
  /** Rows the CSV holds that can be answered (from scanTestData): the progress total and the batch count. */
  total?: number
  /**
   * `true` (default): each batch is a predictBatch transaction (gas from its receipt). `false`: an eth_call
   * with its gas from eth_estimateGas, the same outputs and gas, nothing sent (for a chain that costs money).
   */
  tx?: boolean
  /** Rows per transaction, when the caller has already chosen them (else batch.rows, or measured for auto). */
  batchRows?: number
  /** The deployed contract's batch gas, when the caller measured it (measureBatchGas); else measured here. */
  batchGas?: BatchGas
  /** Calls (`tx: false`) in flight, grown and shrunk as the node answers; a fresh one per evaluation by default. */
  window?: AdaptiveWindow
}


/** The CSV reader's options for the test set: the label column is required (accuracy needs it). */
export function testReadOptions(config: Config, plan: Plan): ReadOptions {
  checkClasses(config, plan)
  return { label: config.data.label, drop: config.data.drop, limit: config.data.limit, features: plan.inputSize, requireLabel: true, classes: config.data.classes }
}

/** data.classes names every class of the model, in output order: a binary model has 2, a multiclass one one per output. */
export function checkClasses(config: Config, plan: Plan): void {
  const names = config.data.classes
  if (!names) return
  const n = plan.outputSize === 1 ? 2 : plan.outputSize
  if (names.length !== n)
    throw new ConfigError(`data.classes names ${names.length} classes, but the model has ${n}${plan.outputSize === 1 ? ' (one output: classes 0 and 1)' : ' outputs'}`, {
      where: 'data.classes',
      hint: 'list every class name in the order of the model\'s outputs',
    })
}

/** An explicit batch.rows whose calldata no node would accept is refused before anything is sent. */
export function checkBatchRows(config: Config, plan: Plan): void {
  if (config.batch.rows === 'auto') return
  const rowBytes = plan.inputSize * plan.inputBytes
  const batchRows = config.batch.rows
  if (batchRows * rowBytes <= MAX_BATCH_CALLDATA) return
  const most = Math.max(1, Math.floor(MAX_BATCH_CALLDATA / rowBytes))
  throw new ConfigError(`batch.rows ${batchRows} makes ${(batchRows * rowBytes).toLocaleString('en-US')} bytes of calldata per transaction, over the ${MAX_BATCH_CALLDATA.toLocaleString('en-US')} that nodes reliably accept`, {
    where: 'batch.rows',
    hint: `at most ${most} rows of this model fit in one transaction; lower batch.rows or use auto`,
  })
}

/**
 * Read the whole test CSV once, before anything is spent: every cell is checked (a bad one is an error
 * naming its row and column), the rows are counted, and data.reference (if any) has one row per test row. Memory stays flat: nothing is kept.
 */
export async function scanTestData(config: Config, plan: Plan): Promise<{ rows: number; answerable: number; refused: number; sample: bigint[][] }> {
  if (!config.data.test) throw new ConfigError('no test data to evaluate', { where: 'data.test', hint: 'add data.test: test.csv to the config' })
  checkBatchRows(config, plan)
  let rows = 0
  let refused = 0
  // the first two answerable rows, encoded: what a deployed contract's batch gas is measured on
  const sample: bigint[][] = []
  // encoded into a scratch row of doubles (no BigInts): only whether the row is answerable counts here
  const scratch = new Float64Array(plan.inputSize)
  for await (const r of readRows(config.data.test, testReadOptions(config, plan))) {
    rows++
    if ('error' in encodeRowInto(plan, r.features, undefined, scratch, 0)) refused++
    else if (sample.length < 2) sample.push((encodeRow(plan, r.features) as { values: bigint[] }).values)
  }
  // data.reference must hold one row of outputs per test row: checked here, before anything is spent
  if (config.data.reference) referenceFor(await readReference(config.data.reference, plan.outputSize), rows, config.data.limit !== undefined, config.data.reference)
  return { rows, answerable: rows - refused, refused, sample }
}

/** The session's per-transaction gas cap: chain.txGasCap or, when smaller, the node's block gas limit. */
export function sessionGasCap(s: ChainSession, config: Config): number {
  return Math.min(s.txGasCap, s.kind === 'rpc' ? Infinity : config.chain.blockGasLimit)
}

/** Rows per transaction that fit: 90% of `cap` at the measured gas (measureBatchGas), within the calldata limit; at least 1. */
export function rowsThatFit(m: BatchGas, cap: number, plan: Plan): number {
  const byGas = Math.floor((cap * 0.9 - m.fixed) / m.perRow)
  const byBytes = Math.floor(MAX_BATCH_CALLDATA / (plan.inputSize * plan.inputBytes))
  return Math.max(1, Math.min(byGas, byBytes))
}

/** Rows per transaction for `batch.rows: auto` from a measurement of the deployed contract's batch gas. */
export function autoRowsFrom(m: BatchGas, s: ChainSession, config: Config, plan: Plan, log: Logger): number {
  const cap = sessionGasCap(s, config)
  const rows = rowsThatFit(m, cap, plan)
  log.detail(`batch size ${rows} rows (≈${m.perRow} gas/row + ${m.fixed} fixed, cap ${cap})`)
  return rows
}

/** Rows per transaction for `batch.rows: auto`: fill 90% of the gas cap, within the calldata limit. */
export async function autoBatchRows(s: ChainSession, address: Hex, abi: Abi, plan: Plan, config: Config, sample: bigint[][], log: Logger): Promise<number> {
  return autoRowsFrom(await measureBatchGas(s, address, abi, plan, sample), s, config, plan, log)
}

/**
 * Stream the test CSV, encode each row (rows outside the safe input range get an error entry, never a
 * wrapped number), and answer them on chain in batches sized to stay under the gas cap: transactions
 * pipelined (IN_FLIGHT), calls as many at once as the node answers (AdaptiveWindow). Only the batches in
 * flight are held; with `keepRows: false` nothing else is kept, so memory stays flat whatever the size of
 * the CSV.
 */
export async function evaluateRows(s: ChainSession, address: Hex, abi: Abi, plan: Plan, config: Config, log: Logger, opts: EvaluateOptions = {}): Promise<Evaluation> {
  if (!config.data.test) throw new ConfigError('no test data to evaluate', { where: 'data.test', hint: 'add data.test: test.csv to the config' })
  const keep = opts.keepRows ?? true
  checkBatchRows(config, plan)
  let batchRows = opts.batchRows ?? (config.batch.rows === 'auto' ? 0 : config.batch.rows)
  const rows: RowResult[] = []
  const txs: GasRecord[] = []
  let window: RowResult[] = [] // rows read since the last batch, in CSV order
  let pending: RowResult[] = [] // the answerable ones among them
  let gas = 0
  let evaluated = 0
  let batch = 0
  let firstAnswerable: RowResult | undefined
  // the progress total (and a check of every cell before the first batch is sent)
  const total = opts.total ?? (await scanTestData(config, plan)).answerable
  const t0 = Date.now()
  const batches = () => (batchRows ? `/${Math.max(1, Math.ceil(total / batchRows))}` : '')
  // the batch gas line: sizes auto batches and sets each transaction's gas limit (no eth_estimateGas per batch)
  let measured = opts.batchGas
  const cap = sessionGasCap(s, config)
  const measure = async (sample: bigint[][]) => (measured ??= await measureBatchGas(s, address, abi, plan, sample))
  // the bar from the first second: before the first batch is answered (on a busy node, minutes)
  if (total > 0) log.progress('evaluate', 0, total, 'waiting for the first batch')

  // calls: as many in flight as the node answers without slowing down or refusing (adaptiveWindow.ts)
  const window_ = opts.window ?? new AdaptiveWindow({ start: 2, max: 32 }, s.rpcRetries)
  const depth = () => (opts.tx === false ? window_.limit : IN_FLIGHT)
  // batches in flight: sent (or called) but not yet confirmed, oldest first; settled in CSV order
  type InFlight = { result?: () => Promise<{ tx: GasRecord; outputs: bigint[][] }>; pending: RowResult[]; window: RowResult[] }
  const inFlight: InFlight[] = []
  const settle = async () => {
    const f = inFlight.shift()!
    if (f.result) {
      const res = await f.result()
      res.outputs.forEach((o, k) => (f.pending[k]!.raw = o))
      txs.push(res.tx)
      gas += res.tx.gasUsed
      evaluated += f.pending.length
      log.progress('evaluate', evaluated, Math.max(total, evaluated), `${rateText(evaluated, (Date.now() - t0) / 1000)}, ${gas.toLocaleString('en-US')} gas`)
    }
    if (f.window.length) await opts.onBatch?.(f.window)
    if (keep === 'outputs')
      for (const r of f.window) {
        r.features = []
        if (r !== firstAnswerable) delete r.input
      }
  }
  /**
   * Hand the rows read so far to the chain. Batches are independent (inference changes nothing), so they
   * are pipelined: up to IN_FLIGHT transactions go out with consecutive nonces before the oldest receipt
   * is awaited, and share blocks on a chain with real block times (calls run concurrently the same way).
   */
  const flush = async (drain = false) => {
    if (pending.length) {
      batch++
      const label = `evaluate batch ${batch}${batches()}`
      const input = pending.map((r) => r.input!)
      if (opts.tx === false) {
        const answer = underWindow(window_, () => predictBatchEstimate(s, address, abi, plan, input, label))
        answer.catch(() => {}) // awaited in settle(); kept from being reported as unhandled meanwhile
        inFlight.push({ result: () => answer, pending, window })
      } else {
        const m = await measure(input)
        const sent = await submitPredictBatch(s, address, abi, plan, input, label, batchGasLimit(m, input.length, cap))
        inFlight.push({ result: sent.wait, pending, window })
      }
    } else if (window.length) inFlight.push({ pending, window })
    window = []
    pending = []
    while (inFlight.length > (drain ? 0 : depth() - 1)) await settle()
  }

  for await (const r of readRows(config.data.test, testReadOptions(config, plan))) {
    const enc = encodeRow(plan, r.features)
    const result: RowResult = { row: r.row, label: r.label, features: r.features, ...(enc.ok ? { input: enc.values } : { error: enc.error }) }
    if (keep) rows.push(result)
    window.push(result)
    if (enc.ok) pending.push(result)
    if (enc.ok && !firstAnswerable) firstAnswerable = result
    if (!batchRows && pending.length >= 2) batchRows = autoRowsFrom(await measure(pending.map((x) => x.input!)), s, config, plan, log)
    if ((batchRows && pending.length >= batchRows) || (!pending.length && window.length >= 1_000)) await flush()
  }
  if (!batchRows && pending.length) batchRows = autoRowsFrom(await measure(pending.map((x) => x.input!)), s, config, plan, log)
  await flush(true)
  if (opts.tx === false) log.detail(`eth_call batches: up to ${window_.peak} in flight, ${window_.backoffs} back-off(s)`)
  return { rows, txs, batchRows: batchRows || 1, inferenceGas: gas, evaluatedRows: evaluated }
}

import type { Abi, Hex } from 'viem'
import type { Config } from '../config/types.ts'
import { ConfigError } from '../errors/base.ts'
import { measureBatchGas, predictBatchTx } from '../chain/evaluateOnChain.ts'
import type { ChainSession } from '../chain/connectChain.ts'
import type { TxRecord } from '../chain/sendTx.ts'
import { readRows } from '../evaluate/readCsv.ts'
import { encodeRow } from '../fixed/encodeRows.ts'
import type { Plan } from '../fixed/types.ts'
import type { Logger } from '../ui/logger.ts'

export type RowResult = { row: number; label: number | undefined; features: number[]; input?: bigint[]; raw?: bigint[]; error?: string }
export type Evaluation = { rows: RowResult[]; txs: TxRecord[]; batchRows: number; inferenceGas: number; evaluatedRows: number }

/** Largest calldata per evaluation transaction (nodes refuse transactions over ~128 KB). */
const MAX_BATCH_CALLDATA = 96_000

/**
 * Stream the test CSV, encode each row (rows outside the safe input range get an error entry, never a
 * wrapped number), and answer them on chain in batch transactions sized to stay under the gas cap.
 */
export async function evaluateRows(
  s: ChainSession,
  address: Hex,
  abi: Abi,
  plan: Plan,
  config: Config,
  log: Logger,
): Promise<Evaluation> {
  if (!config.data.test) throw new ConfigError('no test data to evaluate', { where: 'data.test', hint: 'add data.test: test.csv to the config' })
  const rows: RowResult[] = []
  for await (const r of readRows(config.data.test, { label: config.data.label, drop: config.data.drop, limit: config.data.limit, features: plan.inputSize, requireLabel: false })) {
    const enc = encodeRow(plan, r.features)
    rows.push({ row: r.row, label: r.label, features: r.features, ...(enc.ok ? { input: enc.values } : { error: enc.error }) })
  }
  const good = rows.filter((r) => !r.error)
  const encoded = good.map((r) => r.input!)
  let batchRows: number
  if (config.batch.rows === 'auto') {
    const cap = Math.min(config.chain.txGasCap, config.chain.blockGasLimit)
    const m = encoded.length ? await measureBatchGas(s, address, abi, plan, encoded) : { fixed: 0, perRow: 1 }
    const byGas = Math.floor((cap * 0.9 - m.fixed) / m.perRow)
    const byBytes = Math.floor(MAX_BATCH_CALLDATA / (plan.inputSize * plan.inputBytes))
    batchRows = Math.max(1, Math.min(byGas, byBytes))
    log.detail(`batch size ${batchRows} rows (≈${m.perRow} gas/row + ${m.fixed} fixed, cap ${cap})`)
  } else batchRows = config.batch.rows
  const txs: TxRecord[] = []
  let gas = 0
  const batches = Math.ceil(encoded.length / batchRows)
  const t0 = Date.now()
  for (let b = 0; b < batches; b++) {
    const slice = encoded.slice(b * batchRows, (b + 1) * batchRows)
    const res = await predictBatchTx(s, address, abi, plan, slice, `evaluate batch ${b + 1}/${batches}`)
    res.outputs.forEach((o, k) => (good[b * batchRows + k]!.raw = o))
    txs.push(res.tx)
    gas += res.tx.gasUsed
    const done = Math.min((b + 1) * batchRows, encoded.length)
    const rate = Math.round(done / Math.max((Date.now() - t0) / 1000, 1e-3))
    log.progress('evaluate', done, encoded.length, `${rate} rows/s, ${gas.toLocaleString('en-US')} gas`)
  }
  return { rows, txs, batchRows, inferenceGas: gas, evaluatedRows: encoded.length }
}

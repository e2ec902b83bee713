import coefficients from './coefficients.json' with { type: 'json' }
import type { Plan } from '../fixed/types.ts'
import { NumericsError } from '../errors/base.ts'
import { gasFeatures } from './features.ts'
import { predictGas, type Coefficients } from './gasModel.ts'
import { MAX_BATCH_CALLDATA } from '../chain/limits.ts'

export type GasEstimate = {
  deploy: number
  /** ml2sc's shared admin library, once per chain (0 where it is already deployed): not part of `deploy`. */
  adminLibrary: number
  upload: number
  update: number
  predictSingle: number
  batchRows: number
  batchTx: number
  perRow: number
  embedded: boolean
}

/**
 * The gas model applied to one plan: deploy, upload, a later update, one predict, and the largest batch
 * that fits under the per-transaction cap and the block gas limit. No chain is touched.
 */
export function estimateGas(plan: Plan, opts: { runtimeBytes: number; embedded: boolean; cap: number; rows?: number; chunkSize?: number }): GasEstimate {
  const f = gasFeatures(plan, opts.chunkSize)
  const memWords = f.blobBytes / 32 + f.macWords + f.outputs
  const g = predictGas(coefficients as Coefficients, { ...f, memWords, runtimeBytes: opts.runtimeBytes }, opts.embedded)
  // the gas cap, and the calldata a node reliably accepts per transaction (as `run` sizes its batches)
  const fit = Math.min(g.maxRows(opts.cap), Math.max(1, Math.floor(MAX_BATCH_CALLDATA / f.rowBytes)))
  if (g.maxRows(opts.cap) === 0)
    throw new NumericsError(`one row needs about ${g.predictSingle.toLocaleString('en-US')} gas, over the per-transaction cap of ${opts.cap.toLocaleString('en-US')}`, {
      where: 'chain.txGasCap',
      hint: 'the model is too large for one transaction: use fewer or narrower layers',
    })
  const rows = opts.rows ?? fit
  if (rows > fit) {
    const overGas = g.batch(rows) > opts.cap
    throw new NumericsError(
      overGas
        ? `a batch of ${rows} rows needs about ${g.batch(rows).toLocaleString('en-US')} gas, over the cap of ${opts.cap.toLocaleString('en-US')}`
        : `a batch of ${rows} rows is ${(rows * f.rowBytes).toLocaleString('en-US')} bytes of calldata, over the ${MAX_BATCH_CALLDATA.toLocaleString('en-US')} that nodes reliably accept`,
      { where: 'batch.rows', hint: `at most ${fit} rows fit in one transaction; set batch.rows: auto` },
    )
  }
  return { deploy: g.deploy, adminLibrary: (coefficients as Coefficients).adminLibrary ?? 0, upload: g.upload, update: g.update, predictSingle: g.predictSingle, batchRows: rows, batchTx: g.batch(rows), perRow: g.perRow(rows), embedded: opts.embedded }
}

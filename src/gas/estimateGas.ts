import type { Hex } from 'viem'
import { connectChain, type ChainSession } from '../chain/connectChain.ts'
import { deployModel } from '../chain/deployModel.ts'
import { measureBatchGas, predictBatchTx, predictSingle } from '../chain/evaluateOnChain.ts'
import { MAX_BATCH_CALLDATA } from '../chain/limits.ts'
import { checkBatchFitsCap } from '../chain/spendGuard.ts'
import { uploadWeights } from '../chain/uploadWeights.ts'
import { embedsWeights, generateSolidity } from '../codegen/generateSolidity.ts'
import { chunkSizes, encodeWeights } from '../codegen/weights/weightBlob.ts'
import { measureInternalGas } from '../chain/measureInternalGas.ts'
import { applyRatio, E18, ratio } from '../fixed/e18.ts'
import { compileSolidity } from '../compile/compileSolidity.ts'
import type { Config } from '../config/types.ts'
import { readRows } from '../data/readCsv.ts'
import { NumericsError } from '../errors/base.ts'
import { encodeRow } from '../fixed/encodeRows.ts'
import { inputScaleOf, type Plan } from '../fixed/types.ts'
import { autoBatchRows, checkBatchRows, testReadOptions } from '../pipeline/evaluateRows.ts'
import type { Prepared } from '../pipeline/prepareModel.ts'
import { updatePayload } from '../pipeline/updatePayload.ts'
import type { Logger } from '../ui/logger.ts'

export type GasEstimate = {
  deploy: number
  /** ml2sc's shared admin library, once per chain (0 where it is already deployed): not part of `deploy`. */
  adminLibrary: number
  upload: number
  /** A later weight update (every chunk written again); null for the immutable `code` layout. */
  update: number | null
  predictSingle: number
  /** predict called from another contract (cold account access, no base, no calldata), as report.json's gas.predictInternal. */
  predictInternal: number
  /** The same call through the 1e18 client library, and the client's cost per feature. */
  predictInternalClient: number
  clientPerFeature: number
  /** Rows per evaluation transaction, as `run` sizes them (batch.rows, or the most that fit the cap). */
  batchRows: number
  /** The first evaluation transaction `run` would send: its rows (at most batchRows; fewer when the test set is smaller) and gas. */
  measuredRows: number
  batchTx: number
  perRow: number
  embedded: boolean
}

/** Up to `n` answerable test rows (in CSV order, as `run` sends them), or random rows in the safe range without test data. */
async function sampleInputs(config: Config, plan: Plan, n: number): Promise<{ rows: bigint[][]; fromTest: boolean }> {
  const rows: bigint[][] = []
  if (config.data.test) {
    for await (const r of readRows(config.data.test, { ...testReadOptions(config, plan), requireLabel: false })) {
      const enc = encodeRow(plan, r.features)
      if (enc.ok) rows.push(enc.values)
      if (rows.length >= n) break
    }
    if (rows.length) return { rows, fromTest: true }
  }
  // deterministic values across the middle of the safe range (mostly non-zero bytes: calldata errs high)
  let seed = 12345
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  const span = plan.inputMax - plan.inputMin
  for (let i = 0; i < n; i++) rows.push(Array.from({ length: plan.inputSize }, () => plan.inputMin + span / 4n + BigInt(Math.floor(next() * Number(span / 2n)))))
  return { rows, fromTest: false }
}

/** `count` rows for one batch: the sample, repeated if it is shorter (only without test data). */
const take = (rows: bigint[][], count: number) => Array.from({ length: count }, (_, i) => rows[i % rows.length]!)

/**
 * The gas of every step, by running them: the contract `run` would deploy (same plan, same code) is
 * deployed on a private, throwaway anvil (the embedded node `run` uses by default, at the config's hardfork
 * and caps; never the configured chain), its weights uploaded and updated, one row predicted and the first
 * evaluation batch sent, sized as `run` sizes it. The figures are those transactions' receipts, so they
 * hold for any model, layer type, layout and width. Rows come from data.test (else random rows in the
 * safe range). An explicit batch is checked as `run` checks it (calldata, and the cap by the same rough
 * guard), then refused if the measured gas of the rows `run` would send does not fit the cap.
 */
export async function estimateGas(config: Config, prep: Prepared, opts: { rows?: number; log: Logger }): Promise<GasEstimate> {
  const plan = prep.plan
  // the deploying account owns the contract here, so that it may upload (chain.owner only moves ownership)
  const gen = { ...prep.generate, owner: undefined }
  const compiled = compileSolidity(generateSolidity(plan, gen), prep.contractName, { hardfork: config.chain.hardfork })
  const embedded = embedsWeights(plan, gen)
  const rowBytes = plan.inputSize * plan.inputBytes
  // the checks `run` makes before it deploys: calldata per transaction, and a batch that clearly cannot fit the cap
  const explicit = opts.rows ?? (config.batch.rows === 'auto' ? undefined : config.batch.rows)
  checkBatchRows({ ...config, batch: { ...config.batch, rows: explicit ?? 'auto' } }, plan)
  if (explicit !== undefined) checkBatchFitsCap(plan, explicit, Math.min(config.chain.txGasCap, config.chain.blockGasLimit))
  let s: ChainSession | undefined
  try {
    s = await connectChain({ hardfork: config.chain.hardfork, txGasCap: config.chain.txGasCap, blockGasLimit: config.chain.blockGasLimit })
    const { address, tx, admin } = await deployModel(s, compiled.bytecode as Hex, compiled.abi)
    const blob = encodeWeights(plan)
    const sizes = chunkSizes(blob.length, prep.chunkSize)
    const sum = (txs: { gasUsed: number }[]) => txs.reduce((a, t) => a + t.gasUsed, 0)
    const upload = embedded ? 0 : sum(await uploadWeights(s, address, compiled.abi, blob, sizes))
    const want = explicit ?? Math.max(2, Math.floor(MAX_BATCH_CALLDATA / rowBytes))
    const sample = await sampleInputs(config, plan, want)
    const single = await predictSingle(s, address, compiled.abi, plan, sample.rows[0]!)
    const row = sample.rows[0]!
    const internal = await measureInternalGas(s, address, plan, {
      task: prep.task,
      hardfork: config.chain.hardfork,
      row,
      features: row.map((q) => applyRatio(ratio(E18, inputScaleOf(plan)), q)),
    })
    const two = take(sample.rows, 2)
    const batchRows = explicit ?? (await autoBatchRows(s, address, compiled.abi, plan, config, two, opts.log))
    const measuredRows = sample.fromTest ? Math.min(batchRows, sample.rows.length) : batchRows
    const cap = s.txGasCap
    const m = await measureBatchGas(s, address, compiled.abi, plan, two)
    const guess = m.fixed + m.perRow * measuredRows
    if (guess > cap)
      throw new NumericsError(`a batch of ${measuredRows} rows needs about ${guess.toLocaleString('en-US')} gas, over the cap of ${cap.toLocaleString('en-US')}`, {
        where: 'batch.rows',
        hint: `about ${Math.max(1, Math.floor((cap * 0.9 - m.fixed) / m.perRow))} rows fit in one transaction; set batch.rows: auto`,
      })
    const batch = await predictBatchTx(s, address, compiled.abi, plan, take(sample.rows, measuredRows), 'gas estimate batch')
    // a later update rewrites every chunk (data contracts swapped, or slots rewritten); `code` is immutable
    // (a forwarding model: one kernel contract for the weights, forwardingModel.ts)
    const next = updatePayload(plan, gen, { hardfork: config.chain.hardfork })
    const update = prep.layout === 'code' ? null : sum(await uploadWeights(s, address, compiled.abi, next.data, next.sizes, { commitment: next.commitment }))
    return {
      deploy: tx.gasUsed,
      adminLibrary: admin?.tx?.gasUsed ?? 0,
      upload,
      update,
      predictSingle: single.tx.gasUsed,
      predictInternal: internal.predictInternal,
      predictInternalClient: internal.viaClient,
      clientPerFeature: internal.clientPerFeature,
      batchRows,
      measuredRows,
      batchTx: batch.tx.gasUsed,
      perRow: Math.round(batch.tx.gasUsed / measuredRows),
      embedded,
    }
  } finally {
    await s?.close()
  }
}

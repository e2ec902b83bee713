import path from 'node:path'
import type { Hex } from 'viem'
import type { ChainSession } from '../../chain/connectChain.ts'
import { measureBatchGas, measuredEvaluationCost, predictSingle, type BatchGas } from '../../chain/evaluateOnChain.ts'
import { measureInternalGas } from '../../chain/measureInternalGas.ts'
import { guardSpend } from '../../chain/spendGuard.ts'
import { applyRatio, E18, ratio } from '../../fixed/e18.ts'
import { inputScaleOf, type Plan } from '../../fixed/types.ts'
import type { Config } from '../../config/types.ts'
import { ChainError, ConfigError, Ml2scError } from '../../errors/base.ts'
import type { Logger } from '../../ui/logger.ts'
import {
  EVALUATION_FILE,
  readCompiledArtifact,
  readDeploymentArtifact,
  readPlanArtifact,
  runFirst,
  sha256File,
  stamp,
  writeArtifact,
  type EvaluationArtifact,
  type PlanArtifact,
  type TxJson,
} from '../artifacts.ts'
import { autoRowsFrom, evaluateRows, scanTestData } from '../evaluateRows.ts'
import { checkDeployment, openChain } from '../openChain.ts'

/** Whether the evaluation sends transactions: on a free chain, or when asked (`--tx`); calls on a paid chain. */
export function sendsEvaluationTx(s: Pick<ChainSession, 'free'>, tx?: boolean): boolean {
  return tx ?? s.free
}

/**
 * The gas of predict called from another contract, for the first answered row (its quantised input; the
 * same row in 1e18 for the client, which re-encodes it to exactly that input). A node that cannot run the
 * probe leaves it null, with a note: it is a figure of the report, not a reason to fail the evaluation.
 */
async function internalGasOf(s: ChainSession, address: Hex, plan: Plan, planA: PlanArtifact, row: bigint[], hardfork: string, log: Logger): Promise<EvaluationArtifact['predictInternal']> {
  try {
    const features = row.map((q) => applyRatio(ratio(E18, inputScaleOf(plan)), q))
    const g = await measureInternalGas(s, address, plan, { task: planA.task, hardfork, row, features })
    return { gas: g.predictInternal, viaClient: g.viaClient, clientPerFeature: g.clientPerFeature }
  } catch (e) {
    log.info(`  note: predict from another contract not measured (${String((e as Error).message).split('\n')[0]})`)
    return null
  }
}

export type EvaluateResult = { evaluation: EvaluationArtifact; file: string }

const txJson = (t: { label: string; hash: Hex | null; gasUsed: number }): TxJson => ({ label: t.label, hash: t.hash, gasUsed: t.gasUsed })

/**
 * Stage 5: deployment.json + the test CSV → every row answered on chain in batches (plus one single-row
 * `predict` for its all-in gas) → `evaluation.json`: each row's raw outputs as decimal strings (or why it
 * was refused), the batches and their gas.
 *
 * How, decided per chain: on a free chain (the embedded anvil, a fork, a local development node) the
 * batches are real transactions and the gas comes from their receipts. On a chain that costs money they
 * are eth_calls and the gas comes from eth_estimateGas, which for this code is exactly what the
 * transaction would use (no refunds, no gas-dependent branches): the same outputs and figures, nothing
 * spent (report.json says `gas.inferenceSource: "estimate"`). `tx: true` (`--tx`) sends transactions
 * anyway, for a run recorded on chain.
 */
export async function evaluateStage(config: Config, log: Logger, opts: { session?: ChainSession; tx?: boolean } = {}): Promise<EvaluateResult> {
  const { artifact: planA, plan } = await readPlanArtifact(config)
  const compiled = await readCompiledArtifact(config, planA)
  const dep = await readDeploymentArtifact(config, compiled)
  if (!dep.upload?.done)
    throw new Ml2scError(`the weights are not on chain yet (${dep.upload?.written ?? 0} of ${dep.upload?.chunks ?? '?'} chunks): ${runFirst(config, 'upload')} first`)
  if (!config.data.test) throw new ConfigError('no test data to evaluate', { where: 'data.test', hint: 'add data.test: test.csv to the config' })
  const s = opts.session ?? (await openChain(config, log, 'resume'))
  try {
    await checkDeployment(s, config, dep)
    const read = async <T>(functionName: string) =>
      (await s.publicClient.readContract({ address: dep.address, abi: dep.abi, functionName, args: [] })) as T
    if (!(await read<boolean>('ready'))) throw new ChainError(`the contract at ${dep.address} is not ready (an upload is incomplete): ${runFirst(config, 'upload')} first`)
    const commitment = await read<Hex>('commitment')
    if (commitment !== planA.weights.commitment)
      throw new ChainError(`the contract holds other weights (commitment ${commitment.slice(0, 10)}…, plan.json says ${planA.weights.commitment.slice(0, 10)}…): ${runFirst(config, 'upload')} again`)
    const tx = sendsEvaluationTx(s, opts.tx)
    let priced: { total: number; batchRows: number; batchGas: BatchGas } | undefined
    if (tx && !s.local && !opts.session) {
      // every cell checked and the answerable rows counted before anything is spent
      const { answerable: rows, sample } = await scanTestData(config, plan)
      // measured once on the deployed contract (eth_estimateGas: free); the evaluation sends these batches
      if (sample.length) {
        const m = await measureBatchGas(s, dep.address, dep.abi, plan, sample)
        const batchRows = config.batch.rows === 'auto' ? autoRowsFrom(m, s, config, plan, log) : config.batch.rows
        await guardSpend(s, log, await measuredEvaluationCost(s, dep.address, dep.abi, plan, m, sample[0]!, rows, batchRows))
        priced = { total: rows, batchRows, batchGas: m }
      }
    }
    log.step(tx ? 'evaluate on chain' : 'evaluate on chain through eth_call (gas from eth_estimateGas; --tx to send transactions)')
    const ev = await evaluateRows(s, dep.address, dep.abi, plan, config, log, { keepRows: 'outputs', tx, ...priced })
    const first = ev.rows.find((r) => r.input)
    const single = first ? await predictSingle(s, dep.address, dep.abi, plan, first.input!, { tx }) : undefined
    const internal = first ? await internalGasOf(s, dep.address, plan, planA, first.input!, config.chain.hardfork, log) : null
    const evaluation: EvaluationArtifact = {
      kind: 'ml2sc/evaluation',
      ...stamp(config, EVALUATION_FILE),
      chainId: s.chainId,
      address: dep.address,
      commitment,
      data: { file: path.relative(config.dir, config.data.test), sha256: await sha256File(config.data.test), rows: ev.rows.length },
      batchRows: ev.batchRows,
      gasSource: tx ? 'receipt' : 'estimate',
      gas: { total: ev.inferenceGas, rows: ev.evaluatedRows, perRow: ev.evaluatedRows ? Math.round(ev.inferenceGas / ev.evaluatedRows) : 0 },
      transactions: ev.txs.map(txJson),
      predictSingle: single ? txJson(single.tx) : null,
      predictInternal: internal,
      rows: ev.rows.map((r) => ({ row: r.row, ...(r.label === undefined ? {} : { label: r.label }), ...(r.raw ? { raw: r.raw.map(String) } : { error: r.error }) })),
    }
    const file = await writeArtifact(config, EVALUATION_FILE, evaluation)
    log.detail(`${ev.evaluatedRows} rows in ${ev.txs.length} transaction(s), ${evaluation.gas.perRow.toLocaleString('en-US')} gas per row`)
    return { evaluation, file }
  } finally {
    if (!opts.session) await s.close()
  }
}

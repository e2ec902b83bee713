import path from 'node:path'
import type { Hex } from 'viem'
import type { ChainSession } from '../../chain/connectChain.ts'
import { predictSingle } from '../../chain/evaluateOnChain.ts'
import { estimateEvaluateGas, guardSpend } from '../../chain/spendGuard.ts'
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
  type TxJson,
} from '../artifacts.ts'
import { evaluateRows, scanTestData } from '../evaluateRows.ts'
import { checkDeployment, openChain } from '../openChain.ts'

export type EvaluateResult = { evaluation: EvaluationArtifact; file: string }

const txJson = (t: { label: string; hash: Hex; gasUsed: number }): TxJson => ({ label: t.label, hash: t.hash, gasUsed: t.gasUsed })

/**
 * Stage 5: deployment.json + the test CSV → every row answered on chain in batch transactions (plus one
 * single-row `predict` transaction for its all-in gas) → `evaluation.json`: each row's raw outputs as
 * decimal strings (or why it was refused), the transactions and their gas.
 */
export async function evaluateStage(config: Config, log: Logger, opts: { session?: ChainSession } = {}): Promise<EvaluateResult> {
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
    if (!s.local && !opts.session) {
      // every cell checked and the answerable rows counted before anything is spent
      const { answerable: rows } = await scanTestData(config, plan)
      const batch = config.batch.rows === 'auto' ? rows : config.batch.rows
      const single = { label: 'predict (one row)', gas: estimateEvaluateGas(plan, 1, 1).gas, transactions: 1, exact: false }
      await guardSpend(s, log, [estimateEvaluateGas(plan, rows, batch), single])
    }
    log.step('evaluate on chain')
    const ev = await evaluateRows(s, dep.address, dep.abi, plan, config, log, { keepRows: 'outputs' })
    const first = ev.rows.find((r) => r.input)
    const single = first ? await predictSingle(s, dep.address, dep.abi, plan, first.input!) : undefined
    const evaluation: EvaluationArtifact = {
      kind: 'ml2sc/evaluation',
      ...stamp(config, EVALUATION_FILE),
      chainId: s.chainId,
      address: dep.address,
      commitment,
      data: { file: path.relative(config.dir, config.data.test), sha256: await sha256File(config.data.test), rows: ev.rows.length },
      batchRows: ev.batchRows,
      gas: { total: ev.inferenceGas, rows: ev.evaluatedRows, perRow: ev.evaluatedRows ? Math.round(ev.inferenceGas / ev.evaluatedRows) : 0 },
      transactions: ev.txs.map(txJson),
      predictSingle: single ? txJson(single.tx) : null,
      rows: ev.rows.map((r) => ({ row: r.row, ...(r.label === undefined ? {} : { label: r.label }), ...(r.raw ? { raw: r.raw.map(String) } : { error: r.error }) })),
    }
    const file = await writeArtifact(config, EVALUATION_FILE, evaluation)
    log.detail(`${ev.evaluatedRows} rows in ${ev.txs.length} transaction(s), ${evaluation.gas.perRow.toLocaleString('en-US')} gas per row`)
    return { evaluation, file }
  } finally {
    if (!opts.session) await s.close()
  }
}

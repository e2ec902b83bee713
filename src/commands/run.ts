import { loadConfig } from '../config/loadConfig.ts'
import type { Config } from '../config/types.ts'
import { estimateGas, type GasEstimate } from '../gas/estimateGas.ts'
import type { Prepared } from '../pipeline/prepareModel.ts'
import { openChain } from '../pipeline/openChain.ts'
import { compileStage } from '../pipeline/stages/compile.ts'
import { deployStage } from '../pipeline/stages/deploy.ts'
import { evaluateStage, sendsEvaluationTx } from '../pipeline/stages/evaluate.ts'
import { generateStage } from '../pipeline/stages/generate.ts'
import { reportStage } from '../pipeline/stages/report.ts'
import { uploadStage } from '../pipeline/stages/upload.ts'
import type { Logger } from '../ui/logger.ts'
import { findReusableDeployment } from '../chain/deploymentFile.ts'
import { findAnvil } from '../chain/findAnvil.ts'
import { uploadStart } from '../chain/modelState.ts'
import { requireOwnerKey } from '../chain/requireOwnerKey.ts'
import { estimatePipeline, guardSpend } from '../chain/spendGuard.ts'
import { embedsWeights } from '../codegen/generateSolidity.ts'
import { encodeWeights } from '../codegen/weights/weightBlob.ts'
import { scanTestData } from '../pipeline/evaluateRows.ts'

/** `ml2sc gas`'s figures for the spend guard; undefined (the guard's formulas) when they cannot be had, e.g. no anvil binary. */
async function measuredGas(config: Config, prep: Prepared, log: Logger): Promise<GasEstimate | undefined> {
  try {
    return await log.task('estimate the gas on a private anvil', () => estimateGas(config, prep, { log }))
  } catch (e) {
    log.detail(`no gas figures from a private anvil (${(e as Error).message.split('\n')[0]}): the spend guard's formulas instead`)
    return undefined
  }
}

/** `tx`: evaluate with transactions on a paid chain too (see evaluateStage). */
export type RunArgs = { config: string; out?: string; tx?: boolean }

/**
 * The whole pipeline in one process: generate → compile → deploy → upload → evaluate → report. The same
 * stage functions as the separate commands, writing the same artifacts; the chain is opened once (on the
 * embedded anvil: a fresh chain, left in <out>/anvil-state.json for later commands).
 */
export async function runCommand(args: RunArgs, log: Logger) {
  const config = await loadConfig(args.config, { output: args.out })
  // the embedded anvil (or a fork) is needed at the end: say it is missing before compiling anything
  if (!config.chain.rpcUrl) findAnvil()
  const gen = await generateStage(config, log)
  // every CSV cell checked and the rows counted before compiling, let alone spending
  const data = await scanTestData(config, gen.prepared.plan)
  const { artifact: compiled } = await compileStage(config, log)
  const session = await openChain(config, log, 'fresh')
  try {
    // on an RPC chain, a deployment of this very contract recorded in the output folder is picked up
    // again (an interrupted upload resumes) instead of paying for a new one
    const reuse = await findReusableDeployment(session, config.output, compiled, { owner: config.chain.owner })
    const blob = encodeWeights(gen.prepared.plan)
    const embedded = embedsWeights(gen.prepared.plan, gen.prepared.generate)
    // a contract owned by another account (chain.owner) can be deployed from here, but not uploaded to
    if (config.chain.owner && !embedded && !reuse) await requireOwnerKey(session, config.chain.owner, 'the weight upload')
    // on a chain that costs money: the figures of `ml2sc gas` (run's own transactions on a private anvil)
    const measured = session.free ? undefined : await measuredGas(config, gen.prepared, log)
    await guardSpend(
      session,
      log,
      await estimatePipeline(session, {
        measured,
        bytecode: reuse ? undefined : compiled.bytecode,
        runtimeBytes: compiled.runtimeBytes,
        uploadFrom: reuse ? await uploadStart(session, reuse.address, reuse.abi, gen.artifact.weights.commitment, gen.artifact.weights.chunks.length) : 0,
        layout: gen.prepared.layout,
        abi: compiled.abi,
        plan: gen.prepared.plan,
        blob,
        chunkSizes: gen.artifact.weights.chunks,
        embedded,
        // on a paid chain the evaluation is calls unless --tx: nothing to pay for it
        rows: sendsEvaluationTx(session, args.tx) ? data.answerable : 0,
        batchRows: config.batch.rows,
      }),
    )
    if (reuse) log.step(`reuse the contract at ${reuse.address} recorded in deployment.json (same code, chain ${session.chainId})`)
    else await deployStage(config, log, { session })
    await uploadStage(config, log, { session })
    await evaluateStage(config, log, { session, tx: args.tx })
  } finally {
    await session.close()
  }
  const { report } = await reportStage(config, log)
  return report
}

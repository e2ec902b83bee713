import { loadConfig } from '../config/loadConfig.ts'
import { openChain } from '../pipeline/openChain.ts'
import { compileStage } from '../pipeline/stages/compile.ts'
import { deployStage } from '../pipeline/stages/deploy.ts'
import { evaluateStage } from '../pipeline/stages/evaluate.ts'
import { generateStage } from '../pipeline/stages/generate.ts'
import { reportStage } from '../pipeline/stages/report.ts'
import { uploadStage } from '../pipeline/stages/upload.ts'
import type { Logger } from '../ui/logger.ts'

export type RunArgs = { config: string; out?: string }

/**
 * The whole pipeline in one process: generate → compile → deploy → upload → evaluate → report. The same
 * stage functions as the separate commands, writing the same artifacts; the chain is opened once (on the
 * embedded anvil: a fresh chain, left in <out>/anvil-state.json for later commands).
 */
export async function runCommand(args: RunArgs, log: Logger) {
  const config = await loadConfig(args.config, { output: args.out })
  await generateStage(config, log)
  await compileStage(config, log)
  const session = await openChain(config, log, 'fresh')
  try {
    await deployStage(config, log, { session })
    await uploadStage(config, log, { session })
    await evaluateStage(config, log, { session })
  } finally {
    await session.close()
  }
  const { report } = await reportStage(config, log)
  return report
}

import { loadConfig } from '../config/loadConfig.ts'
import { outLabel } from '../pipeline/artifacts.ts'
import { generateStage } from '../pipeline/stages/generate.ts'
import type { Ml2scCommand } from './context.ts'

export const generateModule: Ml2scCommand = {
  command: 'generate <config>',
  describe: 'Stage 1: model → fixed-point plan → <Contract>.sol and plan.json (no chain, no compiler)',
  builder: (y) =>
    y
      .positional('config', { type: 'string', demandOption: true, describe: 'ml2sc.yaml (or its folder)' })
      .example('$0 generate ml2sc.yaml', 'write out/<Contract>.sol and out/plan.json')
      .example('$0 generate ml2sc.yaml --out build --json', 'elsewhere; print a summary as JSON'),
  handler: async (a, log) => {
    const config = await loadConfig(a.config, { output: a.out })
    const { artifact, files } = await generateStage(config, log)
    log.info(`  wrote ${outLabel(config)}${artifact.source.file} and ${outLabel(config)}plan.json`)
    return {
      contract: artifact.contractName,
      files,
      configHash: artifact.configHash,
      model: artifact.model,
      task: artifact.task,
      layout: artifact.layout,
      weights: artifact.weights,
    }
  },
}

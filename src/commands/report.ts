import { loadConfig } from '../config/loadConfig.ts'
import { reportStage } from '../pipeline/stages/report.ts'
import type { Ml2scCommand } from './context.ts'

export const reportModule: Ml2scCommand = {
  builder: (y) =>
    y
      .positional('config', { type: 'string', demandOption: true, describe: 'ml2sc.yaml (or its folder)' })
      .example('$0 report ml2sc.yaml', 'write the reports from the last evaluation')
      .example('$0 report ml2sc.yaml --json | jq .gas', 'the report on stdout'),
  handler: async (a, log) => {
    const config = await loadConfig(a.config, { output: a.out })
    const { report } = await reportStage(config, log)
    return { ...report, predictions: undefined }
  },
}

import type { Ml2scCommand } from './context.ts'
import { runCommand } from './run.ts'

export const runModule: Ml2scCommand = {
  command: 'run <config>',
  describe: 'The whole pipeline: compile, deploy (embedded anvil by default), upload, evaluate on chain, report',
  builder: (y) =>
    y
      .positional('config', { type: 'string', demandOption: true, describe: 'ml2sc.yaml' })
      .option('tx', { type: 'boolean', default: false, describe: 'On a paid chain, evaluate with predictBatch transactions (recorded, paid) instead of eth_call with gas from eth_estimateGas' })
      .example('$0 run ml2sc.yaml', 'everything, on a fresh embedded anvil')
      .example('$0 run examples/iris/ml2sc.yaml --out /tmp/iris', 'write the outputs elsewhere'),
  handler: async (a, log) => {
    const report = await runCommand({ config: a.config, out: a.out, tx: a.tx ? true : undefined }, log)
    return { ...report, predictions: undefined }
  },
}

import type { Ml2scCommand } from './context.ts'

export const runModule: Ml2scCommand = {
  builder: (y) =>
    y
      .positional('config', { type: 'string', demandOption: true, describe: 'ml2sc.yaml' })
      .option('tx', { type: 'boolean', default: false, describe: 'On a paid chain, evaluate with predictBatch transactions (recorded, paid) instead of eth_call with gas from eth_estimateGas' })
      .example('$0 run ml2sc.yaml', 'everything, on a fresh embedded anvil')
      .example('$0 run examples/iris/ml2sc.yaml --out /tmp/iris', 'write the outputs elsewhere'),
  handler: async (a, log) => {
    // the pipeline (solc, viem, the model readers) is loaded only to run: `ml2sc run --help` stays light
    const { runCommand } = await import('./run.ts')
    const report = await runCommand({ config: a.config, out: a.out, tx: a.tx ? true : undefined }, log)
    return { ...report, predictions: undefined }
  },
}

import { loadConfig } from '../config/loadConfig.ts'
import { uploadStage } from '../pipeline/stages/upload.ts'
import type { Ml2scCommand } from './context.ts'

export const uploadModule: Ml2scCommand = {
  builder: (y) =>
    y
      .positional('config', { type: 'string', demandOption: true, describe: 'ml2sc.yaml (or its folder)' })
      .example('$0 upload ml2sc.yaml', 'upload the weights to the contract in out/deployment.json')
      .example('$0 upload ml2sc.yaml --json', 'the transactions and gas as JSON'),
  handler: async (a, log) => {
    const config = await loadConfig(a.config, { output: a.out })
    const r = await uploadStage(config, log)
    const d = r.deployment
    if (r.sent) log.info(`  ${r.sent} chunk(s), ${r.gas.toLocaleString('en-US')} gas; commitment ${d.commitment}`)
    return { address: d.address, chainId: d.chainId, commitment: d.commitment, sent: r.sent, resumedFrom: r.from, gas: r.gas, chunks: d.upload.chunks, transactions: d.transactions.upload }
  },
}

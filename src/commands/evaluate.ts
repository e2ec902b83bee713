import { loadConfig } from '../config/loadConfig.ts'
import { evaluateStage } from '../pipeline/stages/evaluate.ts'
import type { Ml2scCommand } from './context.ts'

export const evaluateModule: Ml2scCommand = {
  builder: (y) =>
    y
      .positional('config', { type: 'string', demandOption: true, describe: 'ml2sc.yaml (or its folder)' })
      .option('tx', { type: 'boolean', default: false, describe: 'On a paid chain, send predictBatch transactions (recorded, paid) instead of eth_call with gas from eth_estimateGas' })
      .example('$0 evaluate ml2sc.yaml', 'raw on-chain outputs, transactions and gas in out/evaluation.json')
      .example('$0 evaluate ml2sc.yaml && $0 report ml2sc.yaml', 'then the report'),
  handler: async (a, log) => {
    const config = await loadConfig(a.config, { output: a.out })
    const { evaluation: e, file } = await evaluateStage(config, log, { tx: a.tx ? true : undefined })
    const refused = e.rows.filter((r) => r.error).length
    const how = e.gasSource === 'estimate' ? 'call(s), gas from eth_estimateGas' : 'transaction(s)'
    log.info(`  ${e.gas.rows} rows answered${refused ? `, ${refused} refused` : ''} in ${e.transactions.length} ${how}, ${e.gas.perRow.toLocaleString('en-US')} gas per row`)
    return { file, rows: e.rows.length, answered: e.gas.rows, refused, transactions: e.transactions.length, batchRows: e.batchRows, gas: e.gas, predictSingle: e.predictSingle?.gasUsed ?? null }
  },
}

import path from 'node:path'
import { loadConfig } from '../config/loadConfig.ts'
import { estimateGas } from '../gas/estimateGas.ts'
import { parameterCount } from '../ir/taskOf.ts'
import { prepareModel } from '../pipeline/prepareModel.ts'
import type { Ml2scCommand } from './context.ts'

export const gasModule: Ml2scCommand = {
  builder: (y) =>
    y
      .positional('config', { type: 'string', demandOption: true, describe: 'ml2sc.yaml' })
      .option('rows', { type: 'number', describe: 'rows per batch transaction (default: batch.rows, or the most that fit, as run sizes them)' })
      .example('$0 gas ml2sc.yaml', 'deploy, upload, predict and per-row gas, and the batch size that fits the cap')
      .example('$0 gas ml2sc.yaml --json', 'the same as JSON'),
  handler: async (a, log) => {
    const config = await loadConfig(a.config, { output: a.out })
    const prep = await prepareModel(config)
    const est = await log.task('run every step on a private anvil', () => estimateGas(config, prep, { rows: a.rows, log }))
    const n = (x: number) => x.toLocaleString('en-US')
    const params = parameterCount(prep.model)
    log.info(`${path.basename(config.model.path)}: ${params} parameters, layout ${prep.layout}${est.embedded ? ' (weights embedded at deploy)' : ''}`)
    log.info(`  deploy          ${n(est.deploy)}   (+ ${n(est.adminLibrary)} once per chain for ml2sc's shared admin library, if the chain lacks it)`)
    log.info(`  upload          ${n(est.upload)}`)
    log.info(`  later update    ${est.update === null ? '– (immutable layout)' : n(est.update)}`)
    log.info(`  one predict     ${n(est.predictSingle)}   (${n(est.predictInternal)} from another contract; ${n(est.predictInternalClient)} through the 1e18 client, ${est.clientPerFeature} per feature)`)
    log.info(`  batch           ${est.measuredRows} rows in ${n(est.batchTx)} gas (up to ${est.batchRows} rows per transaction): ${n(est.perRow)} per row`)
    return { parameters: params, ...est }
  },
}

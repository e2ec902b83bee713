import { loadConfig } from '../config/loadConfig.ts'
import { deployStage } from '../pipeline/stages/deploy.ts'
import type { Ml2scCommand } from './context.ts'

export const deployModule: Ml2scCommand = {
  builder: (y) =>
    y
      .positional('config', { type: 'string', demandOption: true, describe: 'ml2sc.yaml (or its folder)' })
      .example('$0 deploy ml2sc.yaml', 'on the embedded anvil (its chain is saved for `upload` and `evaluate`)')
      .example('ML2SC_PRIVATE_KEY=0x… $0 deploy sepolia.yaml', 'on the chain at chain.rpcUrl'),
  handler: async (a, log) => {
    const config = await loadConfig(a.config, { output: a.out })
    const { deployment: d, file } = await deployStage(config, log)
    log.info(`  ${d.contractName} at ${d.address} on chain ${d.chainId}, ${d.gas.deploy.toLocaleString('en-US')} gas`)
    return { file, chainId: d.chainId, address: d.address, contract: d.contractName, commitment: d.commitment, transaction: d.transactions.deploy, gas: d.gas.deploy, local: d.chain.local }
  },
}

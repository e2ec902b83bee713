import { loadConfig } from '../config/loadConfig.ts'
import { compileStage } from '../pipeline/stages/compile.ts'
import type { Ml2scCommand } from './context.ts'

export const compileModule: Ml2scCommand = {
  builder: (y) =>
    y
      .positional('config', { type: 'string', demandOption: true, describe: 'ml2sc.yaml (or its folder)' })
      .example('$0 compile ml2sc.yaml', 'compile out/<Contract>.sol with the bundled solc')
      .example('$0 generate ml2sc.yaml && $0 compile ml2sc.yaml --json', 'both stages; the artifact summary as JSON'),
  handler: async (a, log) => {
    const config = await loadConfig(a.config, { output: a.out })
    const { artifact, file } = await compileStage(config, log)
    log.info(`  ${artifact.contractName}: ${artifact.runtimeBytes.toLocaleString('en-US')} bytes of runtime code, solc ${artifact.solcVersion}, evm ${artifact.evmVersion}`)
    return {
      contract: artifact.contractName,
      file,
      solc: artifact.solcVersion,
      evmVersion: artifact.evmVersion,
      bytecodeBytes: (artifact.bytecode.length - 2) / 2,
      runtimeBytes: artifact.runtimeBytes,
      warnings: artifact.warnings,
      standardJson: artifact.standardJson?.file,
    }
  },
}

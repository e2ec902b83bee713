import path from 'node:path'
import { loadConfig } from '../config/loadConfig.ts'
import { exportFoundry, foundryVectors } from '../codegen/client/exportFoundry.ts'
import { embedsWeights } from '../codegen/generateSolidity.ts'
import { encodeWeights } from '../codegen/weights/weightBlob.ts'
import { evmVersionFor } from '../compile/compileSolidity.ts'
import { ConfigError } from '../errors/base.ts'
import { readAllRows } from '../data/readCsv.ts'
import { outLabel } from '../pipeline/artifacts.ts'
import { generateStage } from '../pipeline/stages/generate.ts'
import { updatePayload } from '../pipeline/updatePayload.ts'
import type { Ml2scCommand } from './context.ts'

export const generateModule: Ml2scCommand = {
  builder: (y) =>
    y
      .positional('config', { type: 'string', demandOption: true, describe: 'ml2sc.yaml (or its folder)' })
      .option('foundry', { type: 'string', describe: 'also write a Foundry project (foundry.toml, src/ with the model and its client library, test/ with simulator vectors) to this folder' })
      .example('$0 generate ml2sc.yaml', 'write out/<Contract>.sol and out/plan.json')
      .example('$0 generate ml2sc.yaml --foundry model-forge && (cd model-forge && forge test)', 'a Foundry project whose tests check the contract against the simulator')
      .example('$0 generate ml2sc.yaml --out build --json', 'elsewhere; print a summary as JSON'),
  handler: async (a, log) => {
    const config = await loadConfig(a.config, { output: a.out })
    const { artifact, files, prepared, source } = await generateStage(config, log)
    log.info(`  wrote ${outLabel(config)}${artifact.source.file}, ${outLabel(config)}${path.basename(files.client)} and ${outLabel(config)}plan.json`)
    let foundry: string | undefined
    if (a.foundry) {
      if (prepared.layout === 'code')
        throw new ConfigError('the Foundry export writes the weights with writeChunk, and the code layout is immutable', { where: 'weights.layout', hint: 'export with datacontract or storage' })
      foundry = path.resolve(a.foundry)
      // test vectors: the first rows of the test CSV (or a few synthetic rows), answered by the simulator
      const rows = config.data.test
        ? (await readAllRows(config.data.test, { label: config.data.label, drop: config.data.drop, limit: 20, requireLabel: false, classes: config.data.classes })).features
        : Array.from({ length: 8 }, (_, r) => Array.from({ length: prepared.plan.inputSize }, (_, i) => Math.sin(r * 7 + i)))
      await exportFoundry({
        dir: foundry,
        solidity: source,
        contractName: prepared.contractName,
        plan: prepared.plan,
        vectors: foundryVectors(prepared.plan, rows),
        blob: encodeWeights(prepared.plan),
        chunkSize: prepared.chunkSize,
        evmVersion: evmVersionFor(config.chain.hardfork),
        owner: prepared.generate.owner,
        task: prepared.task,
        embedded: prepared.layout === 'datacontract' && embedsWeights(prepared.plan, prepared.generate),
        update: updatePayload(prepared.plan, prepared.generate, { hardfork: config.chain.hardfork }),
      })
      log.info(`  wrote a Foundry project to ${path.relative(process.cwd(), foundry) || '.'}: run \`forge test\` there`)
    }
    return {
      contract: artifact.contractName,
      files: foundry ? { ...files, foundry } : files,
      configHash: artifact.configHash,
      model: artifact.model,
      task: artifact.task,
      layout: artifact.layout,
      weights: artifact.weights,
    }
  },
}

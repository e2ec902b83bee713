import path from 'node:path'
import { loadConfig } from '../config/loadConfig.ts'
import { connectChain } from '../chain/connectChain.ts'
import { deployModel } from '../chain/deployModel.ts'
import { predictSingle } from '../chain/evaluateOnChain.ts'
import { uploadWeights } from '../chain/uploadWeights.ts'
import { anvilVersion } from '../chain/anvilVersion.ts'
import { generateSolidity } from '../codegen/generateSolidity.ts'
import { chunkSizes, commitmentOf, encodeWeights, MAX_CHUNK } from '../codegen/weightBlob.ts'
import { compileSolidity } from '../compile/compileSolidity.ts'
import { prepareModel } from '../pipeline/prepareModel.ts'
import { evaluateRows } from '../pipeline/evaluateRows.ts'
import { buildReport } from '../report/buildReport.ts'
import { writeAtomic, writeReports } from '../report/writeReports.ts'
import type { Logger } from '../ui/logger.ts'
import { ML2SC_VERSION } from '../version.ts'

export type RunArgs = { config: string; out?: string }

/** The whole pipeline: load → plan → Solidity → solc → chain → deploy → upload → evaluate → report. */
export async function runCommand(args: RunArgs, log: Logger) {
  const config = await loadConfig(args.config, { output: args.out })
  log.step(`model ${path.relative(process.cwd(), config.model.path) || config.model.path}`)
  const prep = await prepareModel(config)
  const { plan, model } = prep
  log.detail(`${prep.task}, ${[model.inputSize, ...model.layers.map((l) => l.weight.length)].join('-')}, scale 2^${plan.F}, weights int${8 * plan.weightBytes}`)

  const chunk = config.batch.upload === 'auto' ? MAX_CHUNK : Math.min(config.batch.upload, MAX_CHUNK)
  const source = generateSolidity(plan, { contractName: prep.contractName, chunkSize: chunk, modelFile: path.basename(config.model.path) })
  const solFile = path.join(config.output, `${prep.contractName}.sol`)
  await writeAtomic(solFile, source)
  log.step(`compile ${path.basename(solFile)}`)
  const compiled = compileSolidity(source, prep.contractName, { hardfork: config.chain.hardfork })
  await writeAtomic(path.join(config.output, `${prep.contractName}.json`), JSON.stringify({ ml2sc: ML2SC_VERSION, ...compiled }, null, 2))

  log.step(config.chain.rpcUrl ? `connect ${config.chain.rpcUrl}` : 'start anvil')
  const s = await connectChain(config.chain)
  try {
    log.step(`deploy (${(compiled.deployedBytecode.length - 2) / 2} bytes)`)
    const { address, tx: deployTx } = await deployModel(s, compiled.bytecode, compiled.abi)
    const blob = encodeWeights(plan)
    const sizes = chunkSizes(blob.length, chunk)
    log.step(`upload ${blob.length} bytes of weights`)
    const upload = await uploadWeights(s, address, compiled.abi, blob, sizes, {
      onProgress: (d, t, g) => log.progress('upload', d, t, `${g.toLocaleString('en-US')} gas`),
    })
    const commitment = commitmentOf(blob)
    await writeAtomic(
      path.join(config.output, 'deployment.json'),
      JSON.stringify(
        {
          ml2sc: ML2SC_VERSION,
          chainId: s.chainId,
          address,
          contractName: prep.contractName,
          abi: compiled.abi,
          commitment,
          configHash: config.hash,
          layout: prep.layout,
          transactions: { deploy: deployTx.hash, upload: upload.map((t) => t.hash) },
        },
        null,
        2,
      ) + '\n',
    )
    log.step('evaluate on chain')
    const ev = await evaluateRows(s, address, compiled.abi, plan, config, log)
    const first = ev.rows.find((r) => r.input)
    const single = first ? await predictSingle(s, address, compiled.abi, plan, first.input!) : undefined
    const report = buildReport({
      model,
      modelFile: path.relative(config.dir, config.model.path),
      plan,
      task: prep.task,
      layout: prep.layout,
      contract: { name: prep.contractName, runtimeBytes: (compiled.deployedBytecode.length - 2) / 2, solcVersion: compiled.solcVersion, evmVersion: compiled.evmVersion },
      chain: { chainId: s.chainId, hardfork: config.chain.hardfork, local: s.local, anvilVersion: s.local ? anvilVersion() : undefined },
      config: { file: path.basename(config.file), hash: config.hash },
      gas: { deploy: deployTx, upload, batches: ev.txs, single: single?.tx },
      rows: ev.rows,
      batchRows: ev.batchRows,
    })
    await writeReports(config.output, report)
    summarize(report, config.output, log)
    return report
  } finally {
    await s.close()
  }
}

function summarize(r: ReturnType<typeof buildReport>, out: string, log: Logger) {
  const acc = r.accuracy as { onchain?: number | null; reference?: number | null; agreement: number | null; mae?: { onchain: number | null; reference: number | null } }
  const f = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`)
  log.info('')
  if (acc.mae) log.info(`  MAE          on chain ${acc.mae.onchain}   reference ${acc.mae.reference}   agreement ${f(acc.agreement)}`)
  else log.info(`  accuracy     on chain ${f(acc.onchain)}   reference ${f(acc.reference)}   agreement ${f(acc.agreement)}`)
  log.info(`  max error    ${r.error.maxAbs} vs the float reference; simulator mismatches ${r.simulator.mismatches}`)
  log.info(`  gas          deploy ${r.gas.deploy.toLocaleString('en-US')}   upload ${r.gas.upload.toLocaleString('en-US')}   per row ${r.gas.inference.perRow.toLocaleString('en-US')}   one predict ${r.gas.predictSingle?.toLocaleString('en-US') ?? '–'}`)
  log.info(`  report       ${path.join(path.relative(process.cwd(), out) || '.', 'report.md')}`)
}

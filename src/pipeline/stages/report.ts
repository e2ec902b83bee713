import path from 'node:path'
import { isForwardingModel } from '../../codegen/generateSolidity.ts'
import type { Config } from '../../config/types.ts'
import { Ml2scError } from '../../errors/base.ts'
import { readRows } from '../../data/readCsv.ts'
import { encodeRow } from '../../fixed/encodeRows.ts'
import { loadModel } from '../../model/loadModel.ts'
import { buildReport, type Report } from '../../report/buildReport.ts'
import { checkFidelity } from '../../report/fidelity.ts'
import { writeReports } from '../../report/writeReports.ts'
import { referenceSourceOf } from '../../report/referenceSource.ts'
import { readReference, referenceFor } from '../../data/readReference.ts'
import { readHeadLabels } from '../../data/readHeadLabels.ts'
import type { Logger } from '../../ui/logger.ts'
import {
  EVALUATION_FILE,
  outLabel,
  readArtifact,
  readCompiledArtifact,
  readDeploymentArtifact,
  readPlanArtifact,
  runFirst,
  sha256File,
  type EvaluationArtifact,
} from '../artifacts.ts'
import type { RowResult } from '../../report/rowTypes.ts'

export type ReportResult = { report: Report; files: string[] }

/**
 * Stage 6, no chain: evaluation.json + plan.json + deployment.json + the model → report.json, report.md
 * and predictions.csv. The float reference and the bit-exact simulator are recomputed from the model and
 * the test CSV, which must be the files the earlier stages used (their sha256s are checked).
 */
export async function reportStage(config: Config, log: Logger): Promise<ReportResult> {
  const ev = await readArtifact<EvaluationArtifact>(config, EVALUATION_FILE, 'evaluate')
  const { artifact: planA, plan } = await readPlanArtifact(config)
  const compiled = await readCompiledArtifact(config, planA)
  const dep = await readDeploymentArtifact(config, compiled)
  if (ev.address !== dep.address || ev.chainId !== dep.chainId || ev.commitment !== dep.commitment)
    throw new Ml2scError(`${outLabel(config)}${EVALUATION_FILE} is for another deployment than deployment.json: ${runFirst(config, 'evaluate')} again`)

  const changed = (what: string, stage: 'generate' | 'evaluate') =>
    new Ml2scError(`${what} changed since \`ml2sc ${stage}\` read it: ${runFirst(config, stage)} again`)
  if ((await sha256File(config.model.path)) !== planA.model.sha256) throw changed(`the model file ${path.relative(process.cwd(), config.model.path)}`, 'generate')
  if (config.model.source && (await sha256File(config.model.source)) !== planA.model.source?.sha256)
    throw changed(`the model source ${path.relative(process.cwd(), config.model.source)}`, 'generate')
  if (!config.data.test || (await sha256File(config.data.test)) !== ev.data.sha256) throw changed(`the test CSV ${config.data.test ? path.relative(process.cwd(), config.data.test) : '(data.test)'}`, 'evaluate')

  const model = await loadModel(config.model)
  // the rows again, in the order evaluate answered them, with their features and fixed-point inputs
  const rows: RowResult[] = []
  let k = 0
  for await (const r of readRows(config.data.test, { label: config.data.label, drop: config.data.drop, limit: config.data.limit, features: plan.inputSize, requireLabel: false, classes: config.data.classes })) {
    const e = ev.rows[k++]
    if (!e || e.row !== r.row) break
    const enc = encodeRow(plan, r.features)
    rows.push({ row: r.row, label: r.label, features: r.features, ...(enc.ok ? { input: enc.values } : {}), ...(e.raw ? { raw: e.raw.map((v) => BigInt(v)) } : { error: e.error ?? (enc.ok ? 'no answer' : enc.error) }) })
  }
  if (rows.length !== ev.rows.length) throw changed('the test rows', 'evaluate')
  const source = referenceSourceOf(config)
  const outputs = config.data.reference
    ? referenceFor(await readReference(config.data.reference, plan.outputSize), rows.length, config.data.limit !== undefined, config.data.reference)
    : undefined

  // a multi-output model: each head's label column (data.label as a list; a single label is the first head's)
  const headLabels = plan.heads ? { columns: config.data.labels ?? [config.data.label], values: await readHeadLabels(config, rows.map((r) => r.row)) } : undefined
  const n = dep.transactions.upload.length
  const report = buildReport({
    model,
    modelFile: planA.model.file,
    plan,
    task: planA.task,
    layout: planA.layout,
    forwarding: isForwardingModel(plan, { layout: planA.layout, chunkSize: planA.weights.chunkSize }),
    contract: { name: compiled.contractName, runtimeBytes: compiled.runtimeBytes, solcVersion: compiled.solcVersion, evmVersion: compiled.evmVersion },
    chain: { chainId: dep.chainId, hardfork: dep.chain.hardfork, local: dep.chain.local || Boolean(dep.chain.free), embedded: dep.chain.local, anvilVersion: dep.chain.anvil ?? undefined, node: dep.chain.node, push0: dep.chain.push0, blockGasLimit: dep.chain.blockGasLimit },
    config: { file: path.basename(config.file), hash: config.hash },
    gas: {
      deploy: { label: 'deploy', hash: dep.transactions.deploy, gasUsed: dep.gas.deploy },
      adminLibrary: dep.transactions.adminLibrary ? { label: 'admin library (once per chain)', hash: dep.transactions.adminLibrary, gasUsed: dep.gas.adminLibrary ?? 0 } : undefined,
      upload: dep.transactions.upload.map((hash, i) => ({ label: `upload chunk ${i + 1}/${n}`, hash, gasUsed: dep.gas.upload[i] ?? 0 })),
      batches: ev.transactions,
      single: ev.predictSingle ?? undefined,
      internal: ev.predictInternal ?? undefined,
      gasSource: ev.gasSource,
    },
    rows,
    batchRows: ev.batchRows,
    reference: { ...source, outputs },
    classes: config.data.classes,
    tolerance: config.precision.tolerance,
    ...(planA.calibration ? { calibration: planA.calibration } : {}),
    ...(config.model.guessed ? { guessed: true } : {}),
    ...(headLabels ? { headLabels } : {}),
  })
  const files = await writeReports(config.output, report)
  summarize(report, config, log)
  // the fidelity gate, once everything is written: PyTorch's outputs at hand and an output beyond the tolerance fail the run
  checkFidelity(report.fidelity, { guessed: config.model.guessed, reportFile: `${outLabel(config)}report.json` })
  return { report, files }
}

function summarize(r: Report, config: Config, log: Logger) {
  const acc = r.accuracy as { onchain?: number | null; reference?: number | null; agreement: number | null; mae?: { onchain: number | null; reference: number | null } }
  const f = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`)
  const g = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x.toLocaleString('en-US'))
  log.info('')
  if (acc.mae) log.info(`  MAE          on chain ${acc.mae.onchain}   reference ${acc.mae.reference}   agreement ${f(acc.agreement)}`)
  else log.info(`  accuracy     on chain ${f(acc.onchain)}   reference ${f(acc.reference)}   agreement ${f(acc.agreement)}`)
  for (const h of r.heads ?? [])
    log.info(`  head ${h.name.padEnd(8)} ${h.task}: ${h.mae ? `MAE on chain ${h.mae.onchain}  reference ${h.mae.reference}` : `accuracy on chain ${f(h.accuracy?.onchain)}  reference ${f(h.accuracy?.reference)}`}   agreement ${f(h.agreement)}   max error ${h.maxAbsError}${h.within ? '' : '   BEYOND precision.tolerance'}`)
  log.info(`  reference    ${r.reference.description}${r.model.guessed ? '; architecture GUESSED by ml2sc init (model.guessed)' : ''}`)
  const cal = r.precision.calibration
  if (cal)
    log.info(`  calibration  precision: auto chose on ${cal.source === 'test rows' ? `test rows ${cal.first}–${cal.last} (${cal.count}); accuracy and agreement are over the other ${r.accuracy.rows.count}` : `${cal.count} rows of data.calibration (${cal.file})`}`)
  log.info(`  max error    ${r.error.maxAbs} vs the reference; simulator mismatches ${r.simulator.mismatches}`)
  const fid = r.fidelity
  if (fid.worst)
    log.info(`  fidelity     ${fid.within ? 'within' : 'BEYOND'} precision.tolerance ${fid.tolerance}${fid.enforced ? '' : ' (vs ml2sc float: not enforced)'}: worst row ${fid.worst.row} output ${fid.worst.output}, off by ${fid.worst.deviation} (tolerance ${fid.worst.tolerance})`)
  log.info(`  gas          deploy ${g(r.gas.deploy)}${r.gas.adminLibrary ? ` (+ ${g(r.gas.adminLibrary)} once per chain: the shared admin library)` : ''}   upload ${g(r.gas.upload)}   per row ${g(r.gas.inference.perRow)}   one predict ${g(r.gas.predictSingle)}${r.gas.predictInternal === null ? '' : ` (${g(r.gas.predictInternal)} from a contract)`}`)
  log.info(`  report       ${outLabel(config)}report.md`)
  for (const w of r.warnings) log.info(`ml2sc: warning: ${w}`)
}

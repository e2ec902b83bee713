import path from 'node:path'
import { clientName, generateClient } from '../../codegen/client/generateClient.ts'
import { generateSolidity } from '../../codegen/generateSolidity.ts'
import { chunkSizes, commitmentOf, encodeWeights } from '../../codegen/weights/weightBlob.ts'
import type { Config } from '../../config/types.ts'
import { parameterCount, shapeOf } from '../../ir/taskOf.ts'
import { writeAtomic } from '../../files/writeAtomic.ts'
import type { Logger } from '../../ui/logger.ts'
import { artifactPath, PLAN_FILE, sha256File, sha256Text, stamp, writeArtifact, type PlanArtifact } from '../artifacts.ts'
import { planToJson } from '../planJson.ts'
import { isMixedWidth, weightedNamesOf, weightWidthsOf, type Plan } from '../../fixed/types.ts'
import { prepareModel, type Prepared } from '../prepareModel.ts'

export type GenerateResult = { prepared: Prepared; artifact: PlanArtifact; source: string; files: { sol: string; plan: string; client: string } }

/**
 * Stage 1, no chain and no compiler: config → model IR → fixed-point plan → `<Contract>.sol` and
 * `plan.json` (the plan, the weight chunks and commitment, stamped with the ml2sc version and config hash).
 * Deterministic: the same config and model give byte-identical files.
 */
export async function generateStage(config: Config, log: Logger): Promise<GenerateResult> {
  log.step(`model ${path.relative(process.cwd(), config.model.path) || config.model.path}`)
  // reading a large model and choosing the precision (precision: auto runs the simulator on the sampled
  // rows for each candidate) can take a while: a line of its own that says which step is running
  const auto = config.precision.weights === 'auto' || config.precision.inputs === 'auto'
  const sp = log.spinner(auto ? 'choose the precision (precision: auto)' : 'read the model')
  let prepared: Awaited<ReturnType<typeof prepareModel>>
  try {
    prepared = await prepareModel(config, { progress: (what) => sp.update(what) })
  } catch (e) {
    sp.fail()
    throw e
  }
  const { plan: chosen } = prepared
  // the activation scale too: `fraction: auto` may have lowered it from 2^20
  const scale = chosen.decimals === undefined ? `, scale 2^${chosen.F}` : ''
  sp.succeed(auto || isMixedWidth(chosen) ? `precision: weights ${widthsLine(chosen)}, inputs int${8 * chosen.inputBytes}${scale}` : undefined)
  for (const w of prepared.warnings) log.info(`  warning: ${w.message}${w.hint ? ` (hint: ${w.hint})` : ''}`)
  const { plan, model } = prepared
  log.detail(`${prepared.task}, ${shapeOf(model).join('-')}, scale 2^${plan.F}, weights ${widthsLine(plan)}`)
  const cal = prepared.calibration
  if (cal)
    log.detail(`precision: auto chose on ${cal.count} calibration row(s): ${cal.source === 'test rows' ? `test rows ${cal.first}–${cal.last}, left out of accuracy and agreement` : `data.calibration (${cal.file})`}`)

  const chunkSize = prepared.chunkSize
  const source = generateSolidity(plan, prepared.generate)
  const solName = `${prepared.contractName}.sol`
  const sol = artifactPath(config, solName)
  await writeAtomic(sol, source)

  const blob = encodeWeights(plan)
  // the library other contracts call the model through, in 1e18 units
  const client = artifactPath(config, `${clientName(prepared.contractName)}.sol`)
  await writeAtomic(client, generateClient(plan, { contractName: prepared.contractName, task: prepared.task, commitment: commitmentOf(blob) }))
  const artifact: PlanArtifact = {
    kind: 'ml2sc/plan',
    ...stamp(config),
    contractName: prepared.contractName,
    layout: prepared.layout,
    task: prepared.task,
    model: {
      file: path.relative(config.dir, config.model.path),
      sha256: await sha256File(config.model.path),
      ...(config.model.source ? { source: { file: path.relative(config.dir, config.model.source), sha256: await sha256File(config.model.source) } } : {}),
      format: model.format,
      shape: shapeOf(model),
      parameters: parameterCount(model),
    },
    source: { file: solName, sha256: sha256Text(source) },
    weights: { bytes: blob.length, chunkSize, chunks: chunkSizes(blob.length, chunkSize), commitment: commitmentOf(blob) },
    plan: planToJson(plan),
    ...(prepared.calibration ? { calibration: prepared.calibration } : {}),
  }
  const planFile = await writeArtifact(config, PLAN_FILE, artifact)
  log.step(`generate ${solName} (${source.split('\n').length} lines), ${path.basename(client)} and ${PLAN_FILE}`)
  return { prepared, artifact, source, files: { sol, plan: planFile, client } }
}

/** `int16`, or per layer: `fc1 int8, fc2 int16, fc3 int8` (a mixed plan). */
const widthsLine = (plan: Plan) => (isMixedWidth(plan) ? weightedNamesOf(plan).map((n, i) => `${n} int${8 * weightWidthsOf(plan)[i]!}`).join(', ') : `int${8 * plan.weightBytes}`)

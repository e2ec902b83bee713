import path from 'node:path'
import type { Config } from '../config/types.ts'
import { chunkSizeFor, type GenerateOptions, type WeightLayout } from '../codegen/generateSolidity.ts'
import { ConfigError } from '../errors/base.ts'
import { makePlan } from '../fixed/makePlan.ts'
import type { Plan } from '../fixed/types.ts'
import { taskOf } from '../ir/taskOf.ts'
import type { ModelIR, Task } from '../ir/types.ts'
import { loadModel } from '../model/loadModel.ts'
import { resolvePrecision } from './resolvePrecision.ts'

export type Prepared = {
  model: ModelIR
  plan: Plan
  task: Task
  layout: WeightLayout
  contractName: string
  /** Bytes per upload transaction (one data contract or storage chunk), from batch.upload and the layout. */
  chunkSize: number
  /** What generateSolidity needs, written once: `generateSolidity(plan, prep.generate)`. */
  generate: GenerateOptions
}

/**
 * `auto` is `datacontract`: it embeds small models' weights in the code (deploying is uploading, and an
 * update swaps in data contracts), keeps large ones in data contracts (cheap to write: 200 gas per byte,
 * against 20,000 per 32-byte storage slot), and reads them with one EXTCODECOPY per transaction.
 */
export function resolveLayout(layout: Config['weights']['layout']): WeightLayout {
  if (layout === 'ml2sc')
    throw new ConfigError("weights.layout 'ml2sc' is the ML2SC baseline, built for the benchmark only", {
      where: 'weights.layout',
      hint: "`npm run bench` measures it beside ml2sc's layouts; use datacontract, code or storage here",
    })
  return layout === 'auto' ? 'datacontract' : layout
}

/** Config → IR → fixed-point plan: everything that needs no chain and no compiler. */
export async function prepareModel(config: Config): Promise<Prepared> {
  const model = await loadModel(config.model)
  const plan = makePlan(model, resolvePrecision(config.precision))
  const layout = resolveLayout(config.weights.layout)
  const base = path.basename(config.model.class ?? config.model.path).replace(/\.[^.]*$/, '')
  const contractName = 'Ml2sc_' + base.replace(/[^A-Za-z0-9_]/g, '_')
  const chunkSize = chunkSizeFor(layout, config.batch.upload === 'auto' ? undefined : config.batch.upload)
  const generate: GenerateOptions = { contractName, layout, chunkSize, modelFile: path.basename(config.model.path) }
  return { model, plan, task: taskOf(model, config.model.task), layout, contractName, chunkSize, generate }
}

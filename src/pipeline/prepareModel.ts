import path from 'node:path'
import type { Config } from '../config/types.ts'
import { ConfigError } from '../errors/base.ts'
import { makePlan } from '../fixed/makePlan.ts'
import type { Plan } from '../fixed/types.ts'
import { taskOf } from '../ir/taskOf.ts'
import type { ModelIR, Task } from '../ir/types.ts'
import { loadModel } from '../model/loadModel.ts'
import { resolvePrecision } from './resolvePrecision.ts'

export type Prepared = { model: ModelIR; plan: Plan; task: Task; layout: 'datacontract'; contractName: string }

/** Config → IR → fixed-point plan: everything that needs no chain and no compiler. */
export async function prepareModel(config: Config): Promise<Prepared> {
  const model = await loadModel(config.model)
  const plan = makePlan(model, resolvePrecision(config.precision))
  const layout = config.weights.layout
  if (layout !== 'auto' && layout !== 'datacontract')
    throw new ConfigError(`weights.layout '${layout}' is not implemented yet`, { where: 'weights.layout', hint: "use 'datacontract' (or 'auto')" })
  const base = path.basename(config.model.class ?? config.model.path).replace(/\.[^.]*$/, '')
  const contractName = 'Ml2sc_' + base.replace(/[^A-Za-z0-9_]/g, '_')
  return { model, plan, task: taskOf(model, config.model.task), layout: 'datacontract', contractName }
}

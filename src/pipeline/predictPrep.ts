import { readFile } from 'node:fs/promises'
import type { Config } from '../config/types.ts'
import type { Plan } from '../fixed/types.ts'
import { artifactPath, checkStamp, PLAN_FILE, sha256File, type PlanArtifact } from './artifacts.ts'
import { planFromJson } from './planJson.ts'
import { prepareModel, type Prepared } from './prepareModel.ts'

/**
 * The plan the last `run` (or `update`) of this config deployed, when plan.json is there, is current for
 * this config and describes this very model file; undefined otherwise.
 */
async function currentDeployedPlan(config: Config): Promise<Plan | undefined> {
  let a: PlanArtifact
  try {
    a = JSON.parse(await readFile(artifactPath(config, PLAN_FILE), 'utf8')) as PlanArtifact
    checkStamp(config, PLAN_FILE, 'generate', a)
  } catch {
    return undefined
  }
  if (a?.kind !== 'ml2sc/plan' || !a.plan || a.model?.sha256 !== (await sha256File(config.model.path))) return undefined
  return planFromJson(a.plan)
}

/**
 * The model as `predict` answers with it, on chain and off chain alike: at the scales and widths of the
 * deployed plan when there is one for this model (so an `update`d contract and the simulator agree), else
 * as `run` would plan it.
 */
export async function predictPrep(config: Config): Promise<Prepared> {
  const deployed = await currentDeployedPlan(config)
  return await prepareModel(config, deployed ? { deployed } : {})
}

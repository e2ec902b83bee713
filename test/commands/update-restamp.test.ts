// The artifacts' config hash covers the model file's content, so new weights make them stale, except
// after `ml2sc update` put those weights into the deployed contract: then plan.json, the compiled artifact
// and deployment.json are re-stamped, and `evaluate` / `report` run on the updated model with no redeploy.
import { expect, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { updateCommand } from '../../src/commands/update.ts'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { compileStage } from '../../src/pipeline/stages/compile.ts'
import { deployStage } from '../../src/pipeline/stages/deploy.ts'
import { evaluateStage } from '../../src/pipeline/stages/evaluate.ts'
import { generateStage } from '../../src/pipeline/stages/generate.ts'
import { reportStage } from '../../src/pipeline/stages/report.ts'
import { uploadStage } from '../../src/pipeline/stages/upload.ts'
import { randomProject } from '../chain/helpers.ts'
import { expectMl2scError, quiet } from './helpers.ts'

test('new model weights: stale artifacts until `ml2sc update`, then evaluate and report work on the same contract', async () => {
  const p = randomProject({ sizes: [6, 8, 2], seed: 4, yaml: 'weights:\n  layout: storage\n' })
  let c = await loadConfig(p.config)
  await generateStage(c, quiet)
  await compileStage(c, quiet)
  const { deployment } = await deployStage(c, quiet)
  await uploadStage(c, quiet)
  await evaluateStage(c, quiet)

  const w = JSON.parse(readFileSync(p.weights, 'utf8'))
  w['fc1.weight'][0][0] += 0.01
  writeFileSync(p.weights, JSON.stringify(w))
  c = await loadConfig(p.config)
  await expectMl2scError(evaluateStage(c, quiet), /plan\.json is stale: .*\(or the model file\) changed/)

  const r = await updateCommand({ config: p.config }, quiet)
  expect(r.version).toBe(2)
  const ev = await evaluateStage(c, quiet)
  expect(ev.evaluation.address).toBe(deployment.address)
  expect(ev.evaluation.commitment).toBe(r.commitment)
  await reportStage(c, quiet)
  const dep = JSON.parse(readFileSync(path.join(c.output, 'deployment.json'), 'utf8'))
  expect(dep.configHash).toBe(c.hash)
  expect(dep.address).toBe(deployment.address)
})

test('an update refuses a contract whose code is not what the config now compiles to (outside the weights), in one line', async () => {
  const p = randomProject({ sizes: [6, 8, 2], seed: 5, yaml: 'weights:\n  layout: storage\n' })
  const c = await loadConfig(p.config)
  await generateStage(c, quiet)
  await compileStage(c, quiet)
  await deployStage(c, quiet)
  await uploadStage(c, quiet)
  // same plan and weights, another contract: compiled for another EVM version
  writeFileSync(p.config, readFileSync(p.config, 'utf8') + 'chain:\n  hardfork: paris\n')
  await expectMl2scError(updateCommand({ config: p.config }, quiet), /weights\.json: the new weights need a different contract than the one at 0x[0-9a-fA-F]{40}: /)
})

// The stage commands in-process, each chain stage on its own embedded anvil resumed from the state file. One file
// (one bun process and module load) for what were three: stages, predict-owner and update-restamp, each test as
// it was there.
//
// The pipeline as separate stages on the embedded anvil: each chain stage starts its own anvil, which
// resumes the chain the previous one left in <out>/anvil-state.json. Plus every missing/stale-artifact error.
//
// `predict` with no chain left from a run deploys the model on a fresh embedded anvil and uploads its
// weights there. A model owned by chain.owner (another account than the anvil's) must still answer: the
// scratch copy is deployed as the anvil account's own, and it answers exactly like the simulator.
//
// The artifacts' config hash covers the model file's content, so new weights make them stale, except
// after `ml2sc update` put those weights into the deployed contract: then plan.json, the compiled artifact
// and deployment.json are re-stamped, and `evaluate` / `report` run on the updated model with no redeploy.
import { describe, expect, test } from 'bun:test'
import path from 'node:path'
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { compileStage } from '../../src/pipeline/stages/compile.ts'
import { deployStage } from '../../src/pipeline/stages/deploy.ts'
import { evaluateStage } from '../../src/pipeline/stages/evaluate.ts'
import { generateStage } from '../../src/pipeline/stages/generate.ts'
import { reportStage } from '../../src/pipeline/stages/report.ts'
import { uploadStage } from '../../src/pipeline/stages/upload.ts'
import { connectChain } from '../../src/chain/connectChain.ts'
import { encodeFunctionData, toHex } from 'viem'
import { sendTx } from '../../src/chain/sendTx.ts'
import { commitmentOf, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { readPlanArtifact } from '../../src/pipeline/artifacts.ts'
import { ROOT } from '../helpers/paths.ts'
import { bcProject, config, digitsProject, expectMl2scError, quiet } from './helpers.ts'
import { predictCommand } from '../../src/commands/predict.ts'
import { randomProject } from '../chain/helpers.ts'
import { updateCommand } from '../../src/commands/update.ts'
import { loadConfig } from '../../src/config/loadConfig.ts'

const json = (f: string) => JSON.parse(readFileSync(f, 'utf8'))
const readCsv = (f: string) => readFileSync(f, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','))

describe('stages on the embedded anvil, one command each', () => {
  test('generate → compile → deploy → upload → evaluate → report gives PyTorch’s classes', async () => {
    const file = bcProject()
    const c = await config(file)
    const g = await generateStage(c, quiet)
    expect(existsSync(path.join(c.output, 'Ml2sc_model.sol'))).toBe(true)
    const plan = json(path.join(c.output, 'plan.json'))
    expect(plan.ml2sc).toBe('0.1.0')
    expect(plan.configHash).toBe(c.hash)
    expect(plan.weights.commitment).toBe(g.artifact.weights.commitment)
    expect(plan.model.shape).toEqual([30, 8, 1])

    const cmp = await compileStage(c, quiet)
    const art = json(cmp.file)
    expect(art.configHash).toBe(c.hash)
    expect(art.bytecode).toMatch(/^0x[0-9a-f]+$/)
    expect(art.solcVersion).toMatch(/^0\.8\.37/)
    expect(art.evmVersion).toBe('prague')
    expect(Array.isArray(art.abi)).toBe(true)

    const d = await deployStage(c, quiet)
    expect(existsSync(path.join(c.output, 'anvil-state.json'))).toBe(true) // the chain, dumped when anvil stopped
    expect(d.deployment.chainId).toBe(31337)
    expect(d.deployment.address).toMatch(/^0x[0-9a-fA-F]{40}$/)
    expect(d.deployment.commitment).toMatch(/^0x[0-9a-f]{64}$/)

    const u = await uploadStage(c, quiet) // a new anvil, resumed from the state file
    expect(u.deployment.upload.done).toBe(true)

    const e = await evaluateStage(c, quiet)
    const ev = json(e.file)
    expect(ev.rows.length).toBe(50)
    expect(ev.rows.every((r: { raw?: string[] }) => r.raw?.length === 1 && /^-?\d+$/.test(r.raw[0]!))).toBe(true)
    expect(ev.transactions[0].hash).toMatch(/^0x[0-9a-f]{64}$/)
    expect(ev.transactions[0].gasUsed).toBeGreaterThan(21_000)
    expect(ev.predictSingle.gasUsed).toBeGreaterThan(21_000)

    const r = await reportStage(c, quiet) // no chain
    expect(r.report.reference.source).toBe('pytorch-csv') // agreement is with PyTorch's own outputs (data.reference)
    expect(r.report.accuracy.agreement).toBe(1)
    expect(r.report.simulator.mismatches).toBe(0)
    expect(r.report.gas.deploy).toBe(d.deployment.gas.deploy)
    expect(r.report.gas.inference.perRow).toBe(ev.gas.perRow)
    const torch = readCsv(path.join(ROOT, 'examples/breast-cancer/reference.csv')).map((x) => (Number(x[1]) > 0.5 ? 1 : 0))
    readCsv(path.join(c.output, 'predictions.csv')).forEach((p, i) => expect(Number(p[2])).toBe(torch[i]!))
    for (const f of ['report.json', 'report.md', 'predictions.csv']) expect(existsSync(path.join(c.output, f))).toBe(true)
  })

  test('upload sends the chunks of a big model and resumes an interrupted upload', async () => {
    const c = await config(digitsProject())
    await generateStage(c, quiet)
    await compileStage(c, quiet)
    const d = await deployStage(c, quiet)
    expect(d.deployment.upload).toEqual({ chunks: 5, written: 0, done: false })
    await expectMl2scError(evaluateStage(c, quiet), /weights are not on chain yet \(0 of 5 chunks\): run `ml2sc upload .*ml2sc\.yaml` first/)

    // an upload that stopped after 2 of 5 chunks (sent by hand on the saved chain)
    const { plan, artifact } = await readPlanArtifact(c)
    const s = await connectChain({ ...c.chain, stateFile: path.join(c.output, 'anvil-state.json') })
    try {
      // chunks 0 and 1 of the full upload, naming its commitment, as an interrupted upload leaves them
      const blob = encodeWeights(plan)
      const sizes = artifact.weights.chunks
      for (let i = 0, at = 0; i < 2; at += sizes[i]!, i++) {
        const data = encodeFunctionData({ abi: d.deployment.abi, functionName: 'writeChunk', args: [BigInt(i), toHex(blob.subarray(at, at + sizes[i]!)), commitmentOf(blob)] })
        await sendTx(s, `chunk ${i}`, { to: d.deployment.address, data }, d.deployment.abi)
      }
    } finally {
      await s.close()
    }
    const u = await uploadStage(c, quiet)
    expect(u.from).toBe(2)
    expect(u.sent).toBe(3)
    expect(u.deployment.upload).toEqual({ chunks: 5, written: 5, done: true })
    expect(u.deployment.gas.upload.length).toBe(3)

    const again = await uploadStage(c, quiet)
    expect(again.sent).toBe(0) // already on chain: nothing sent

    await evaluateStage(c, quiet)
    const r = await reportStage(c, quiet)
    expect(r.report.reference.source).toBe('pytorch-csv') // agreement is with PyTorch's own outputs (data.reference)
    expect(r.report.accuracy.agreement).toBe(1)
    expect(r.report.simulator.mismatches).toBe(0)
    expect(r.report.gas.upload).toBeGreaterThan(1_000_000)
  })
})

describe('missing and stale artifacts', () => {
  test('each stage names the command that makes what it misses', async () => {
    const c = await config(bcProject())
    const noPlan = /^no plan\.json in .*out\/: run `ml2sc generate .*ml2sc\.yaml` first$/
    await expectMl2scError(compileStage(c, quiet), noPlan)
    await expectMl2scError(deployStage(c, quiet), noPlan)
    await expectMl2scError(uploadStage(c, quiet), noPlan)
    await expectMl2scError(evaluateStage(c, quiet), noPlan)
    await expectMl2scError(reportStage(c, quiet), /^no evaluation\.json in .*out\/: run `ml2sc evaluate .*ml2sc\.yaml` first$/)
    await generateStage(c, quiet)
    await expectMl2scError(deployStage(c, quiet), /^no Ml2sc_model\.json in .*out\/: run `ml2sc compile .*ml2sc\.yaml` first$/)
    await compileStage(c, quiet)
    await expectMl2scError(uploadStage(c, quiet), /^no deployment\.json in .*out\/: run `ml2sc deploy .*ml2sc\.yaml` first$/)
    await expectMl2scError(evaluateStage(c, quiet), /^no deployment\.json in .*out\/: run `ml2sc deploy .*ml2sc\.yaml` first$/)
    await deployStage(c, quiet)
    await expectMl2scError(reportStage(c, quiet), /^no evaluation\.json in .*: run `ml2sc evaluate/)

    // the embedded chain is gone
    rmSync(path.join(c.output, 'anvil-state.json'))
    await expectMl2scError(uploadStage(c, quiet), /^no anvil-state\.json in .*out\/: the embedded chain is gone; run `ml2sc deploy .*ml2sc\.yaml` first$/)
  })

  test('a changed config, another ml2sc version, an edited .sol or a changed CSV make artifacts stale', async () => {
    const file = bcProject()
    let c = await config(file)
    await generateStage(c, quiet)
    await compileStage(c, quiet)
    await deployStage(c, quiet)
    await evaluateStage(c, quiet) // embedded weights: ready right after deploy
    await reportStage(c, quiet)

    // another ml2sc wrote deployment.json
    const depFile = path.join(c.output, 'deployment.json')
    const dep = readFileSync(depFile, 'utf8')
    writeFileSync(depFile, dep.replace('"ml2sc": "0.1.0"', '"ml2sc": "0.0.1"'))
    await expectMl2scError(evaluateStage(c, quiet), /deployment\.json is stale: it was made by ml2sc 0\.0\.1, this is ml2sc 0\.1\.0: run `ml2sc deploy .*` again/)
    writeFileSync(depFile, dep)

    // the test CSV changed after evaluate
    const csv = path.join(c.dir, 'test.csv')
    const rows = readFileSync(csv, 'utf8')
    writeFileSync(csv, rows.trimEnd() + '\n' + rows.trim().split('\n')[1] + '\n')
    await expectMl2scError(reportStage(c, quiet), /the test CSV .*test\.csv changed since `ml2sc evaluate` read it: run `ml2sc evaluate .*` again/)
    writeFileSync(csv, rows)
    await reportStage(c, quiet)

    // a hand-edited contract
    const sol = path.join(c.output, 'Ml2sc_model.sol')
    const source = readFileSync(sol, 'utf8')
    writeFileSync(sol, source + '// edited\n')
    await expectMl2scError(compileStage(c, quiet), /Ml2sc_model\.sol is not the file plan\.json describes .*: run `ml2sc generate .*` again/)
    writeFileSync(sol, source)

    // a comment, reordered keys, a default written out: nothing is stale (no paid redeploy for a comment)
    const text = readFileSync(file, 'utf8')
    const [modelPart, dataPart] = [text.slice(0, text.indexOf('data:')), text.slice(text.indexOf('data:'))]
    writeFileSync(file, `# tuned on Tuesday\n${dataPart}${modelPart}weights:\n  layout: auto # the default\n`)
    c = await config(file)
    await uploadStage(c, quiet)
    await reportStage(c, quiet)
    // an evaluation setting: the contract is still current, the evaluation is not
    appendFileSync(file, 'batch:\n  rows: 10\n')
    c = await config(file)
    await expectMl2scError(reportStage(c, quiet), /evaluation\.json is stale: .*run `ml2sc evaluate/)
    await evaluateStage(c, quiet)
    await reportStage(c, quiet)
    // what the contract is made of changed: every stage refuses the old artifacts
    appendFileSync(file, 'precision:\n  fraction: 16\n')
    c = await config(file)
    const stale = /plan\.json is stale: .*ml2sc\.yaml \(or the model file\) changed since it was made \(config hash [0-9a-f]{8}, now [0-9a-f]{8}\): run `ml2sc generate .*ml2sc\.yaml` again/
    for (const stage of [compileStage, deployStage, uploadStage, evaluateStage]) await expectMl2scError(stage(c, quiet), stale)
    await expectMl2scError(reportStage(c, quiet), /evaluation\.json is stale: .*run `ml2sc evaluate/)
    // regenerating fixes plan.json; the next stale artifact is the compiled one
    await generateStage(c, quiet)
    await expectMl2scError(deployStage(c, quiet), /Ml2sc_model\.json is stale: .*run `ml2sc compile .*` again/)
  })
})

test('predict on the fly for a model with chain.owner and weights to upload: the same answers as --offchain', async () => {
  const p = randomProject({ sizes: [6, 8, 2], seed: 12, yaml: "weights:\n  layout: storage\nchain:\n  owner: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'\n" })
  const input = path.join(p.dir, 'test.csv')
  const onChain = await predictCommand({ config: p.config, input }, quiet)
  const offChain = await predictCommand({ config: p.config, input, offchain: true }, quiet)
  expect(onChain.rows.length).toBe(20)
  expect(onChain.rows).toEqual(offChain.rows)
})

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

// The stages on a chain given by chain.rpcUrl (one anvil shared by every test here, as a real node would
// be): separate commands need no state file, spending needs --yes, and a deployment must be on the chain.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { approveSpending } from '../../src/chain/spendGuard.ts'
import { startAnvil, type AnvilHandle } from '../../src/chain/startAnvil.ts'
import { compileStage } from '../../src/pipeline/stages/compile.ts'
import { deployStage } from '../../src/pipeline/stages/deploy.ts'
import { evaluateStage } from '../../src/pipeline/stages/evaluate.ts'
import { generateStage } from '../../src/pipeline/stages/generate.ts'
import { reportStage } from '../../src/pipeline/stages/report.ts'
import { uploadStage } from '../../src/pipeline/stages/upload.ts'
import { bcProject, config, digitsProject, expectMl2scError, quiet } from './helpers.ts'

/** anvil's first development account (public knowledge: its default mnemonic). */
const DEV_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
let anvil: AnvilHandle
const savedKey = process.env.ML2SC_PRIVATE_KEY
beforeAll(async () => {
  // chain id 31338: a loopback node with 31337 or 1337 counts as a free development chain (no --yes)
  anvil = await startAnvil({ hardfork: 'prague', blockGasLimit: 30_000_000, chainId: 31_338 })
  process.env.ML2SC_PRIVATE_KEY = DEV_KEY
})
afterAll(async () => {
  approveSpending(false)
  if (savedKey === undefined) delete process.env.ML2SC_PRIVATE_KEY
  else process.env.ML2SC_PRIVATE_KEY = savedKey
  await anvil?.stop()
})

describe('stages on chain.rpcUrl', () => {
  test('deploy refuses to spend without --yes, and writes nothing', async () => {
    approveSpending(false)
    const c = await config(bcProject(`chain:\n  rpcUrl: ${anvil.rpcUrl}\n`))
    await generateStage(c, quiet)
    await compileStage(c, quiet)
    await expectMl2scError(deployStage(c, quiet), /not a local chain: .*needs --yes/)
    expect(existsSync(path.join(c.output, 'deployment.json'))).toBe(false)
  })

  test('every stage as its own command on the same node; a deployment that is not on the chain is refused', async () => {
    approveSpending(true)
    const c = await config(digitsProject(`chain:\n  rpcUrl: ${anvil.rpcUrl}\n`))
    await generateStage(c, quiet)
    await compileStage(c, quiet)
    const d = await deployStage(c, quiet)
    expect(d.deployment.chain).toEqual({ local: false, free: false, hardfork: 'prague', anvil: null, state: null, node: expect.stringMatching(/^anvil\/v\d/), push0: true, blockGasLimit: 30_000_000 })
    expect(existsSync(path.join(c.output, 'anvil-state.json'))).toBe(false)
    const u = await uploadStage(c, quiet)
    expect(u.sent).toBe(5)
    await evaluateStage(c, quiet)
    const r = await reportStage(c, quiet)
    expect(r.report.reference.source).toBe('pytorch-csv') // agreement is with PyTorch's own outputs (data.reference)
    expect(r.report.accuracy.agreement).toBe(1)
    expect(r.report.simulator.mismatches).toBe(0)
    expect(r.report.chain.local).toBe(false)
    expect(r.report.tools.anvil).toBeNull()
    expect(r.report.gas.upload).toBe(u.gas)

    // deployment.json pointing at an address with no code
    const depFile = path.join(c.output, 'deployment.json')
    const dep = JSON.parse(readFileSync(depFile, 'utf8'))
    writeFileSync(depFile, JSON.stringify({ ...dep, address: '0x000000000000000000000000000000000000dEaD' }))
    await expectMl2scError(evaluateStage(c, quiet), /no contract at 0x000000000000000000000000000000000000dEaD on chain 31338 .*: run `ml2sc deploy .*` again/)
    // …or on another chain
    writeFileSync(depFile, JSON.stringify({ ...dep, chainId: 1 }))
    await expectMl2scError(uploadStage(c, quiet), /deployment\.json is for chain 1, but the chain is 31338: run `ml2sc deploy/)
  })
})

// Issue 18: plan.json's inputFraction (the scale callers encode their rows at) is pinned by the model's code
// (a field of its admin parameters), like every other width and scale of plan.json. Before, a data-contract
// model's code did not depend on it: a plan.json with another value let `ml2sc update` upload weights
// quantised at it, and verify passed with that plan.json and another commitment.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { publicClientFor, randomProject, startRemoteAnvil, type RemoteAnvil } from './helpers.ts'

setDefaultTimeout(120_000)
let remote: RemoteAnvil
let B: ReturnType<typeof randomProject>
const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'))
const client = () => publicClientFor(remote.url)

async function verify(config: string, ...args: string[]) {
  const r = await runCliInProcess(['verify', config, '--json', ...args])
  return { ...r, json: r.stdout.trim() ? JSON.parse(r.stdout) : undefined }
}

beforeAll(async () => {
  delete process.env.ML2SC_PRIVATE_KEY
  // 31337: a free development chain (run makes no estimate on a private anvil first: not the point here)
  remote = await startRemoteAnvil({ chainId: 31_337 })
  // 32-160-4 with int24 weights in data contracts of 4 KB (too big to embed); inputs auto: [0, 1] features at 2^Fin < 2^F
  B = randomProject({ sizes: [32, 160, 4], rows: 6, seed: 7, yaml: `precision:\n  weights: int24\nbatch:\n  upload: 4096\nchain:\n  rpcUrl: ${remote.url}\n  chainId: 31337\n` })
  const r = await runCliInProcess(['run', B.config, '--yes'], { env: { ML2SC_PRIVATE_KEY: remote.keys[0]! } })
  if (r.code !== 0) throw new Error(`ml2sc run failed: ${r.stderr}`)
}, 240_000)
afterAll(async () => await remote?.stop())

describe("plan.json's input scale (issue 18): pinned by the code", () => {
  test('a plan.json with another inputFraction: update refuses to upload weights quantised at it, and verify refuses it (code differs)', async () => {
    // the publisher's folder, copied: the same deployment (B), a tampered plan.json
    const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-fin-'))
    cpSync(path.dirname(B.config), dir, { recursive: true })
    const config = path.join(dir, 'ml2sc.yaml')
    const file = path.join(dir, 'out', 'plan.json')
    const plan = readJson(file)
    const fin = plan.plan.inputFraction
    expect(typeof fin).toBe('number')
    expect(fin).toBeLessThan(plan.plan.F)
    // inputs at 2^(fin+1): the first layer's weights are quantised one bit coarser; the code's shifts are the same
    plan.plan.inputFraction = fin + 1
    writeFileSync(file, JSON.stringify(plan))
    const block = await client().getBlockNumber()
    const u = await runCliInProcess(['update', config, '--yes'], { env: { ML2SC_PRIVATE_KEY: remote.keys[0]! } })
    expect(u.code).not.toBe(0)
    expect(u.stderr).toMatch(/the new weights need a different contract than the one at 0x[0-9a-fA-F]{40}/)
    expect(await client().getBlockNumber()).toBe(block)
    const r = await verify(config)
    expect(r.code).toBe(1)
    expect(r.json).toMatchObject({ verified: false, check: 'code' })
    // the publisher's own plan.json verifies
    plan.plan.inputFraction = fin
    writeFileSync(file, JSON.stringify(plan))
    const back = await verify(config)
    expect(back.stderr).toBe('')
    expect(back.code).toBe(0)
  })
})

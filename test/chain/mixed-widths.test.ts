// Issue 23 (mixed precision): `precision.weights` per layer, through the whole pipeline on a remote anvil.
// A map by layer name gives each Linear layer its own width; plan.json, report.json and the console line carry
// them, the chain equals the simulator, and `verify` rebuilds the plan from plan.json's per-layer widths: the
// publisher's plan.json verifies, one with another layer's width does not (the code differs), and `update`
// refuses to upload weights quantised at the forged widths.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { publicClientFor, randomProject, startRemoteAnvil, type RemoteAnvil } from './helpers.ts'

setDefaultTimeout(120_000)
let remote: RemoteAnvil
let B: ReturnType<typeof randomProject>
let run: { code: number; stdout: string; stderr: string }
const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'))

async function verify(config: string) {
  const r = await runCliInProcess(['verify', config, '--json'])
  return { ...r, json: r.stdout.trim() ? JSON.parse(r.stdout) : undefined }
}

beforeAll(async () => {
  delete process.env.ML2SC_PRIVATE_KEY
  // 31337: a free development chain (run makes no estimate on a private anvil first: not the point here)
  remote = await startRemoteAnvil({ chainId: 31_337 })
  // 24-40-8-3: the big first layer at int8, the others at int16 and int24 (in data contracts of 1 KB: not embedded)
  B = randomProject({ sizes: [24, 40, 8, 3], rows: 12, seed: 23, yaml: `precision:\n  weights: { fc1: int8, fc2: int16, fc3: int24 }\n  inputs: int16\n  fraction: 12\nbatch:\n  upload: 1024\nchain:\n  rpcUrl: ${remote.url}\n  chainId: 31337\n` })
  run = await runCliInProcess(['run', B.config, '--yes'], { env: { ML2SC_PRIVATE_KEY: remote.keys[0]! } })
  if (run.code !== 0) throw new Error(`ml2sc run failed: ${run.stderr}`)
}, 240_000)
afterAll(async () => await remote?.stop())

describe('precision.weights per layer (issue 23)', () => {
  test('plan.json, report.json, the contract header and the console line carry each layer\'s width; the chain equals the simulator', async () => {
    const plan = readJson(path.join(B.out, 'plan.json')).plan
    expect(plan.layers.map((l: { weightBytes?: number }) => l.weightBytes)).toEqual([1, 2, 3])
    expect(plan.weightBytes).toBe(3)
    const report = readJson(path.join(B.out, 'report.json'))
    expect(report.precision.weightWidths).toEqual({ fc1: 8, fc2: 16, fc3: 24 })
    expect(report.precision.layers.map((l: { weightBits: number }) => l.weightBits)).toEqual([8, 16, 24])
    expect(report.simulator.mismatches).toBe(0)
    expect(readFileSync(path.join(B.out, 'Ml2sc_weights.sol'), 'utf8')).toContain('weights int8/int16/int24 with per-layer scales')
    expect(run.stderr).toContain('(int8/int16/int24 weights, scale 2^12')
    // the precision line (a spinner's closing line: on a terminal, or with --verbose), from a copy of the folder
    const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-mixed-gen-'))
    cpSync(B.dir, dir, { recursive: true })
    const g = await runCliInProcess(['generate', path.join(dir, 'ml2sc.yaml'), '--verbose'])
    expect(g.code).toBe(0)
    expect(g.stderr).toContain('precision: weights fc1 int8, fc2 int16, fc3 int24, inputs int16, scale 2^12')
  })

  test("verify rebuilds the plan from plan.json's per-layer widths: the publisher's verifies, a forged width does not, and update refuses it", async () => {
    const ok = await verify(B.config)
    expect(ok.stderr).toBe('')
    expect(ok.code).toBe(0)
    expect(ok.json).toMatchObject({ verified: true, weights: 'int8/int16/int24' })
    // the publisher's folder, copied: the same deployment, plan.json with fc2 at int24 (fc2's weights quantised
    // 8 bits finer: another blob, another commitment)
    const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-mixed-'))
    cpSync(B.dir, dir, { recursive: true })
    const config = path.join(dir, 'ml2sc.yaml')
    const file = path.join(dir, 'out', 'plan.json')
    const artifact = readJson(file)
    artifact.plan.layers[1].weightBytes = 3
    writeFileSync(file, JSON.stringify(artifact))
    const block = await publicClientFor(remote.url).getBlockNumber()
    const u = await runCliInProcess(['update', config, '--yes'], { env: { ML2SC_PRIVATE_KEY: remote.keys[0]! } })
    expect(u.code).not.toBe(0)
    expect(await publicClientFor(remote.url).getBlockNumber()).toBe(block)
    const forged = await verify(config)
    expect(forged.code).toBe(1)
    expect(forged.json).toMatchObject({ verified: false })
  })

  test('update: retrained weights are quantised at the deployed per-layer widths, uploaded, and verify then passes', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-mixed-upd-'))
    cpSync(B.dir, dir, { recursive: true })
    const config = path.join(dir, 'ml2sc.yaml')
    const weights = path.join(dir, 'weights.json')
    const state = readJson(weights) as Record<string, number[][] | number[]>
    for (const [k, v] of Object.entries(state)) state[k] = k.endsWith('.bias') ? (v as number[]).map((x) => x * 0.9) : (v as number[][]).map((row) => row.map((x) => x * 0.9))
    writeFileSync(weights, JSON.stringify(state))
    const before = readJson(path.join(dir, 'out', 'plan.json')).weights.commitment
    const u = await runCliInProcess(['update', config, '--yes'], { env: { ML2SC_PRIVATE_KEY: remote.keys[0]! } })
    expect(u.stderr).not.toContain('error')
    expect(u.code).toBe(0)
    const after = readJson(path.join(dir, 'out', 'plan.json'))
    expect(after.weights.commitment).not.toBe(before)
    expect(after.plan.layers.map((l: { weightBytes?: number }) => l.weightBytes)).toEqual([1, 2, 3])
    const v = await verify(config)
    expect(v.code).toBe(0)
    expect(v.json).toMatchObject({ verified: true, weights: 'int8/int16/int24', local: after.weights.commitment })
  })

  test('a width list of the wrong length, or a map naming an unknown layer: one line naming the key and the layers', async () => {
    for (const [weights, message] of [
      ['[int8, int16]', /^ml2sc: error: precision\.weights: 2 width\(s\) given; the model has 3 weighted layer\(s\) \(fc1, fc2, fc3\) \(hint: give one width per layer, in this order: fc1, fc2, fc3\)$/m],
      ['{ fc1: int8, fc9: int16 }', /^ml2sc: error: precision\.weights\.fc9: the model has no layer 'fc9' \(hint: the weighted layers are: fc1, fc2, fc3\)$/m],
      ['{ fc1: int8, fc2: int16 }', /^ml2sc: error: precision\.weights: no width for layer 'fc3' \(hint: /m],
    ] as const) {
      const p = randomProject({ sizes: [6, 5, 4, 2], rows: 6, seed: 5, yaml: `precision:\n  weights: ${weights}\n` })
      const r = await runCliInProcess(['generate', p.config])
      expect(r.code).not.toBe(0)
      expect(r.stderr).toMatch(message)
      expect(r.stderr.match(/ml2sc: error/g)!.length).toBe(1)
      expect(r.stderr).not.toContain('    at ')
    }
  })
})

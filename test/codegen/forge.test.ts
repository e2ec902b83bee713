// Real forge (Foundry 1.7.1 from npm, offline, compiling with solc-js through scripts/solc-js-shim) runs:
// - the project `ml2sc generate --foundry` writes for the breast-cancer example of `npm start`: the model's
//   simulator vectors and the client library's tests, all passing; then a negative control: one expected
//   output changed in each test file, and forge fails exactly those two tests;
// - the example consumer (examples/consumer), whose model/ folder must be what ml2sc generates today.
import { beforeAll, describe, expect, test } from 'bun:test'
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { FORGE_TIMEOUT, forgeTest } from '../helpers/forge.ts'
import { ROOT } from '../helpers/paths.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'

const C = 'Ml2sc_model'
const count = (src: string, re: RegExp) => src.match(re)?.length ?? 0

describe('forge test on the Foundry export (ml2sc.yaml.example)', () => {
  let dir = ''
  beforeAll(async () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'ml2sc-forge-'))
    dir = path.join(tmp, 'forge')
    const r = await runCliInProcess(['generate', 'ml2sc.yaml.example', '--out', path.join(tmp, 'out'), '--foundry', dir])
    expect(r.code).toBe(0)
  }, FORGE_TIMEOUT)

  test('every generated test passes under forge, the client tests included', async () => {
    const model = readFileSync(path.join(dir, `test/${C}.t.sol`), 'utf8')
    const client = readFileSync(path.join(dir, `test/${C}Client.t.sol`), 'utf8')
    const expected = count(model, /function test_\w+\(\)/g) + count(client, /function test_\w+\(\)/g)
    expect(count(client, /function test_client_vector_\d+\(\)/g)).toBeGreaterThanOrEqual(4)
    const run = await forgeTest(dir)
    expect(run.stderr + run.stdout).not.toMatch(/error/i)
    expect(run.code).toBe(0)
    expect(run.failed).toBe(0)
    expect(run.passed).toBe(expected)
    expect(run.stdout).toContain('[PASS] test_client_rangeCheck()')
    expect(run.stdout).toContain('[PASS] test_client_vector_0()')
  }, FORGE_TIMEOUT)

  test('negative control: a changed expected output fails forge, in the model test and in the client test', async () => {
    const bad = mkdtempSync(path.join(tmpdir(), 'ml2sc-forge-bad-'))
    cpSync(dir, bad, { recursive: true })
    const bump = (file: string, fn: string) => {
      const src = readFileSync(path.join(bad, file), 'utf8')
      const m = new RegExp(`function ${fn}\\(\\)[\\s\\S]*?want\\[0\\] = (-?\\d+);`).exec(src)!
      writeFileSync(path.join(bad, file), src.replace(m[0], m[0].replace(`want[0] = ${m[1]};`, `want[0] = ${BigInt(m[1]!) + 1n};`)))
    }
    bump(`test/${C}.t.sol`, 'test_vector_0')
    bump(`test/${C}Client.t.sol`, 'test_client_vector_0')
    const run = await forgeTest(bad)
    expect(run.code).not.toBe(0)
    expect(run.failures.sort()).toEqual(['test_client_vector_0', 'test_vector_0'])
    expect(run.stdout).toMatch(/OutputMismatch\(0, 0, /)
    expect(run.stdout).toMatch(/OutputMismatchE18\(0, 0, /)
  }, FORGE_TIMEOUT)
})

describe('the example consumer (examples/consumer)', () => {
  test('its model/ folder is what `ml2sc generate --foundry` writes today', async () => {
    const fresh = path.join(mkdtempSync(path.join(tmpdir(), 'ml2sc-consumer-')), 'model')
    const r = await runCliInProcess(['generate', 'ml2sc.yaml.example', '--out', path.join(fresh, '..', 'out'), '--foundry', fresh])
    expect(r.code).toBe(0)
    // stale after a change to the code generator, the admin library or the version: regenerate with
    // ./bin/ml2sc generate ml2sc.yaml.example --foundry examples/consumer/model
    const stale = ['src', 'test'].flatMap((sub) =>
      readdirSync(path.join(fresh, sub)).filter((f) => {
        const committed = path.join(ROOT, 'examples/consumer/model', sub, f)
        return !existsSync(committed) || readFileSync(committed, 'utf8') !== readFileSync(path.join(fresh, sub, f), 'utf8')
      }).map((f) => `${sub}/${f}`),
    )
    expect(stale).toEqual([])
  }, FORGE_TIMEOUT)

  let work = ''
  test('forge test passes: accepts above the threshold, rejects below, refuses out-of-range features and a forged model', async () => {
    work = path.join(mkdtempSync(path.join(tmpdir(), 'ml2sc-consumer-run-')), 'consumer')
    // a copy, so that forge's out/ and cache/ stay out of the repo (forgeTest's --use names the repo's shim)
    cpSync(path.join(ROOT, 'examples/consumer'), work, { recursive: true, filter: (p) => !/[\\/](out|cache)$/.test(p) })
    const run = await forgeTest(work)
    expect(run.code).toBe(0)
    for (const t of ['test_acceptsAboveThreshold', 'test_rejectsBelowThreshold', 'test_rejectsOutOfRangeFeature', 'test_refusesAForgedModel'])
      expect(run.stdout).toContain(`[PASS] ${t}()`)
    expect(run.failed).toBe(0)
  }, FORGE_TIMEOUT)

  test('negative control: a threshold above the benign score fails exactly the acceptance test', async () => {
    expect(work).not.toBe('')
    const t = path.join(work, 'test/Screening.t.sol') // forge's cache from the run above: only this file is rebuilt
    writeFileSync(t, readFileSync(t, 'utf8').replace('THRESHOLD = 0.9e18;', 'THRESHOLD = 0.999999e18;'))
    const bad = await forgeTest(work)
    expect(bad.code).not.toBe(0)
    expect(bad.failures).toEqual(['test_acceptsAboveThreshold'])
  }, FORGE_TIMEOUT)
})

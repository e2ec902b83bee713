// Real forge on what ml2sc exports for Foundry: one file (one bun process and module load) for what were two,
// foundry and forge, each test as it was there.
//
// `ml2sc generate --foundry DIR`'s project for examples/iris (a multiclass model: the client's predictClass is
// an argmax), run by real forge (test/helpers/forge.ts: forge 1.7.1 from npm, offline, solc-js through
// scripts/solc-js-shim). Three exports share one Foundry project, so that forge builds once: the default
// (one chunk), the weights in several 100-byte chunks, and a model with chain.owner (setUp writes the
// chunks as that owner through vm.startPrank). A negative control (one expected output changed) must fail.
//
// Real forge (Foundry 1.7.1 from npm, offline, compiling with solc-js through scripts/solc-js-shim) runs:
// - the project `ml2sc generate --foundry` writes for the breast-cancer example of `npm start`: the model's
//   simulator vectors and the client library's tests, all passing; then a negative control: one expected
//   output changed in each test file, and forge fails exactly those two tests;
// - the example consumer (examples/consumer), whose model/ folder must be what ml2sc generates today.
import { beforeAll, describe, expect, test } from 'bun:test'
import path from 'node:path'
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { updatePayload } from '../../src/pipeline/updatePayload.ts'
import { exportFoundry, foundryVectors } from '../../src/codegen/client/exportFoundry.ts'
import { generateSolidity } from '../../src/codegen/generateSolidity.ts'
import { SOLC_DEFAULT_OPTIMIZER, compileSolidity } from '../../src/compile/compileSolidity.ts'
import { encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { readAllRows } from '../../src/data/readCsv.ts'
import type { Plan } from '../../src/fixed/types.ts'
import { prepareModel } from '../../src/pipeline/prepareModel.ts'
import { FORGE_TIMEOUT, forgeTest, type ForgeRun } from '../helpers/forge.ts'
import { ROOT } from '../helpers/paths.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'

const OWNER = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const count = (src: string, re: RegExp) => src.match(re)?.length ?? 0

describe('Foundry export (examples/iris) under forge', () => {
  let dir = ''
  let C = ''
  let plan: Plan
  let solidity = ''
  let blob: Uint8Array
  let update: ReturnType<typeof updatePayload>
  let nVectors = 0
  let run: ForgeRun
  const chunkSize = 100
  const read = (f: string) => readFileSync(path.join(dir, f), 'utf8')

  beforeAll(async () => {
    const config = await loadConfig(path.join(ROOT, 'examples/iris/ml2sc.yaml'))
    const prep = await prepareModel(config)
    plan = prep.plan
    C = prep.contractName
    solidity = generateSolidity(plan, { contractName: C, modelFile: 'weights.json' })
    blob = encodeWeights(plan)
    const { features } = await readAllRows(config.data.test, { label: config.data.label, drop: config.data.drop, features: plan.inputSize })
    const vectors = foundryVectors(plan, features, 30)
    nVectors = vectors.length
    dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-foundry-'))
    // iris is a forwarding model (forwardingModel.ts): setUp's update installs its kernel contract (runtime ++ blob)
    update = updatePayload(plan, { contractName: C })
    expect(update.kernel).toBeDefined()
    await exportFoundry({ dir, solidity, contractName: C, plan, vectors, blob, task: prep.task, update })
    const few = foundryVectors(plan, [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]])
    await exportFoundry({ dir, solidity: generateSolidity(plan, { contractName: `${C}_chunks`, chunkSize }), contractName: `${C}_chunks`, plan, vectors: few, blob, chunkSize })
    await exportFoundry({ dir, solidity: generateSolidity(plan, { contractName: `${C}_owned`, owner: OWNER }), contractName: `${C}_owned`, plan, vectors: few, blob, owner: OWNER, update })
    run = await forgeTest(dir)
  }, FORGE_TIMEOUT)

  test('writes foundry.toml, src/, test/ with simulator vectors, the client, and a README', () => {
    for (const f of ['foundry.toml', `src/${C}.sol`, `src/${C}Client.sol`, `test/${C}.t.sol`, `test/${C}Client.t.sol`, 'README.md']) expect(existsSync(path.join(dir, f))).toBe(true)
    const toml = read('foundry.toml')
    expect(toml).toMatch(/^src = "src"$/m)
    expect(toml).toMatch(/^solc_version = "0\.8\.\d+"$/m)
    expect(toml).toMatch(/^optimizer = true$/m)
    expect(toml).toMatch(/^evm_version = "prague"$/m)
    expect(read(`src/${C}.sol`)).toBe(solidity)
    const t = read(`test/${C}.t.sol`)
    expect(nVectors).toBe(30)
    expect(count(t, /function test_vector_\d+\(\)/g)).toBe(nVectors)
    // chunk 0 carries the update mark (1 wei) while the model holds none
    expect(t).toContain(`chunk = hex"${Buffer.from(update.data).toString('hex')}";\n        model.writeChunk{value: address(model).balance == 0 ? 1 : 0}(0, chunk, COMMITMENT)`)
    expect(Buffer.from(update.data).toString('hex').endsWith(Buffer.from(blob).toString('hex'))).toBe(true)
    expect(t).toContain('function setUp() public')
    expect(t).not.toMatch(/import[^;]*forge-std/)
    // multiclass: the client's predictClass is checked on every client vector
    expect(count(read(`test/${C}Client.t.sol`), /predictClass\(address\(model\), f\) == \d/g)).toBeGreaterThanOrEqual(4)
  })

  test('forge runs every test of the three exports, and all pass', () => {
    const tests = [`${C}`, `${C}Client`, `${C}_chunks`, `${C}_owned`].reduce((n, f) => n + count(read(`test/${f}.t.sol`), /function test_\w+\(\)/g), 0)
    expect(run.code).toBe(0)
    expect(run.failed).toBe(0)
    expect(run.passed).toBe(tests)
    for (const suite of [`${C}Test`, `${C}ClientTest`, `${C}_chunksTest`, `${C}_ownedTest`]) expect(run.stdout).toMatch(new RegExp(`Ran \\d+ tests for test/\\w+\\.t\\.sol:${suite}\\n`))
  })

  test("forge compiles the exported contracts to ml2sc's exact runtime code (foundry.toml holds ml2sc's settings)", () => {
    // the chunked one is among the contracts the constant optimizer changes: its setting must reach forge
    const chunked = generateSolidity(plan, { contractName: `${C}_chunks`, chunkSize })
    expect(compileSolidity(chunked, `${C}_chunks`, { optimizer: SOLC_DEFAULT_OPTIMIZER }).deployedBytecode).not.toBe(compileSolidity(chunked, `${C}_chunks`).deployedBytecode)
    for (const [name, src] of [[C, solidity], [`${C}_chunks`, chunked]] as const) {
      const forged = JSON.parse(read(`out/${name}.sol/${name}.json`)) as { deployedBytecode: { object: string } }
      expect(forged.deployedBytecode.object).toBe(compileSolidity(src, name).deployedBytecode)
    }
  })

  test('weights in several chunks: writeChunk(i, …) in order, with the chunk size the contract was generated with', () => {
    const mt = read(`test/${C}_chunks.t.sol`)
    const chunks = Math.ceil(blob.length / chunkSize)
    expect(chunks).toBeGreaterThan(1)
    expect(mt.match(/chunk = hex"[0-9a-f]+";\n\s+model\.writeChunk(\{value: [^}]+\})?\(\d+, chunk, COMMITMENT\)/g)?.length).toBe(chunks)
    expect([...mt.matchAll(/model\.writeChunk(?:\{value: [^}]+\})?\((\d+), /g)].map((m) => Number(m[1]))).toEqual([...Array(chunks).keys()])
    // forge ran that suite's every test after the multi-chunk setUp, and none failed
    expect(run.stdout).toContain(`Ran ${count(mt, /function test_\w+\(\)/g)} tests for test/${C}_chunks.t.sol:${C}_chunksTest`)
    expect(run.failures).toEqual([])
  })

  test('a model with chain.owner: setUp writes the chunks as that owner (vm.startPrank)', () => {
    const t = read(`test/${C}_owned.t.sol`)
    const prank = t.indexOf(`abi.encodeWithSignature("startPrank(address)", ${OWNER})`)
    expect(prank).toBeGreaterThan(t.indexOf(`new ${C}_owned()`))
    expect(prank).toBeLessThan(t.indexOf('model.writeChunk{value: address(model).balance == 0 ? 1 : 0}(0,'))
    expect(t.indexOf('"deal(address,uint256)"')).toBeLessThan(t.indexOf('model.writeChunk{value'))
    expect(t.indexOf('stopPrank()')).toBeGreaterThan(t.lastIndexOf('model.writeChunk('))
    expect(read(`src/${C}_owned.sol`)).toContain(`INITIAL_OWNER = ${OWNER};`)
    // without an owner the export has no cheatcode calls beyond placing the admin library
    expect(read(`test/${C}.t.sol`)).not.toContain('startPrank')
  })

  test('negative control: one expected output changed fails exactly that vector, with OutputMismatch', async () => {
    const bad = mkdtempSync(path.join(tmpdir(), 'ml2sc-foundry-bad-'))
    cpSync(dir, bad, { recursive: true }) // forge's cache comes along: only the changed file is rebuilt
    const file = path.join(bad, `test/${C}_owned.t.sol`)
    const src = readFileSync(file, 'utf8')
    const m = /function test_vector_1\(\)[\s\S]*?want\[2\] = (-?\d+);/.exec(src)!
    writeFileSync(file, src.replace(m[0], m[0].replace(`want[2] = ${m[1]};`, `want[2] = ${BigInt(m[1]!) - 1n};`)))
    const r = await forgeTest(bad)
    expect(r.code).not.toBe(0)
    expect(r.failures).toEqual(['test_vector_1'])
    expect(r.stdout).toContain(`OutputMismatch(1, 2, ${m[1]}`)
  }, FORGE_TIMEOUT)
})

const C = 'Ml2sc_model'

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

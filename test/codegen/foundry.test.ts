// `ml2sc generate --foundry DIR`'s project for examples/iris: the files, then proof that `forge test` would
// pass without forge being installed here: solc-js compiles the generated test contract with the settings
// of its foundry.toml, and every `test*` function runs on a real anvil after `setUp` (as forge runs them),
// without reverting. A negative control (one expected output changed) must revert.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { decodeErrorResult, encodeFunctionData, type Abi, type Hex } from 'viem'
import { connectChain, type ChainSession } from '../../src/chain/connectChain.ts'
import { exportFoundry, foundryVectors } from '../../src/codegen/exportFoundry.ts'
import { generateSolidity } from '../../src/codegen/generateSolidity.ts'
import { encodeWeights } from '../../src/codegen/weightBlob.ts'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { readAllRows } from '../../src/data/readCsv.ts'
import type { Plan } from '../../src/fixed/types.ts'
import { prepareModel } from '../../src/pipeline/prepareModel.ts'
import { ROOT } from '../helpers/paths.ts'

const solc = require('solc') as { compile(input: string): string }

type Compiled = { abi: Abi; bytecode: Hex }

/** Compile the project as forge would: sources under src/ and test/, settings from foundry.toml. */
function compileProject(dir: string, overrides: Record<string, string> = {}): Record<string, Compiled> {
  const toml = readFileSync(path.join(dir, 'foundry.toml'), 'utf8')
  const get = (k: string) => new RegExp(`^${k}\\s*=\\s*"?([^"\\n]+)"?`, 'm').exec(toml)?.[1]
  const sources: Record<string, { content: string }> = {}
  for (const sub of ['src', 'test'])
    for (const f of readdirSync(path.join(dir, sub))) sources[`${sub}/${f}`] = { content: overrides[`${sub}/${f}`] ?? readFileSync(path.join(dir, sub, f), 'utf8') }
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      evmVersion: get('evm_version'),
      viaIR: get('via_ir') === 'true',
      optimizer: { enabled: get('optimizer') === 'true', runs: Number(get('optimizer_runs')), details: { yul: get('yul') === 'true' } },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  }
  const out = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: { severity: string; formattedMessage: string }[]
    contracts: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>
  }
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error')
  if (errors.length) throw new Error(errors.map((e) => e.formattedMessage).join('\n'))
  const res: Record<string, Compiled> = {}
  for (const [file, cs] of Object.entries(out.contracts)) for (const [name, c] of Object.entries(cs)) res[`${file}:${name}`] = { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` }
  return res
}

const testFunctions = (abi: Abi) => abi.filter((x): x is Extract<Abi[number], { type: 'function' }> => x.type === 'function' && /^test/.test(x.name)).map((f) => f.name)

describe('Foundry export (examples/iris)', () => {
  let dir = ''
  let C = ''
  let plan: Plan
  let solidity = ''
  let blob: Uint8Array
  let nVectors = 0
  let s: ChainSession | undefined

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
    await exportFoundry({ dir, solidity, contractName: C, plan, vectors, blob })
  })
  afterAll(async () => {
    await s?.close()
  })

  /** Deploy the test contract and run its setUp as a transaction (forge deploys, then calls setUp). */
  async function deployAndSetUp(c: Compiled): Promise<Hex> {
    s ??= await connectChain({ hardfork: 'prague', blockGasLimit: 30_000_000, txGasCap: 16_777_216 })
    // anvil mines each transaction at once: poll fast rather than at viem's default 4 s
    const receipt = (hash: Hex) => s!.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 50 })
    const rc = await receipt(await s.walletClient.sendTransaction({ account: s.account, chain: s.chain, data: c.bytecode }))
    expect(rc.status).toBe('success')
    // forge funds every test contract (2^96 wei): setUp sends the update mark (1 wei) with chunk 0
    await s.publicClient.request({ method: 'anvil_setBalance' as never, params: [rc.contractAddress!, '0x1000000000000000000000000'] as never })
    const setUp = await s.walletClient.sendTransaction({ account: s.account, chain: s.chain, to: rc.contractAddress!, data: encodeFunctionData({ abi: c.abi, functionName: 'setUp' }) })
    expect((await receipt(setUp)).status).toBe('success')
    return rc.contractAddress! as Hex
  }

  /** Call every test* function on the set-up contract; returns the failures (name: reason). */
  async function runTests(c: Compiled, at: Hex): Promise<string[]> {
    const failures: string[] = []
    for (const name of testFunctions(c.abi)) {
      try {
        await s!.publicClient.call({ account: s!.account, to: at, data: encodeFunctionData({ abi: c.abi, functionName: name }) })
      } catch (e) {
        failures.push(`${name}: ${String((e as Error).message).split('\n')[0]}`)
      }
    }
    return failures
  }

  test('writes foundry.toml, src/, test/ with simulator vectors, and a README', () => {
    for (const f of ['foundry.toml', `src/${C}.sol`, `test/${C}.t.sol`, 'README.md']) expect(existsSync(path.join(dir, f))).toBe(true)
    const toml = readFileSync(path.join(dir, 'foundry.toml'), 'utf8')
    expect(toml).toMatch(/^src = "src"$/m)
    expect(toml).toMatch(/^solc_version = "0\.8\.\d+"$/m)
    expect(toml).toMatch(/^optimizer = true$/m)
    expect(toml).toMatch(/^evm_version = "prague"$/m)
    expect(readFileSync(path.join(dir, 'src', `${C}.sol`), 'utf8')).toBe(solidity)
    const t = readFileSync(path.join(dir, 'test', `${C}.t.sol`), 'utf8')
    expect(nVectors).toBe(30)
    expect(t.match(/function test_vector_\d+\(\)/g)?.length).toBe(nVectors)
    // chunk 0 carries the update mark (1 wei) while the model holds none
    expect(t).toContain(`model.writeChunk{value: address(model).balance == 0 ? 1 : 0}(0, hex"${Buffer.from(blob).toString('hex')}", COMMITMENT)`)
    expect(t).toContain('function setUp() public')
    expect(t).not.toMatch(/import[^;]*forge-std/)
    expect(readFileSync(path.join(dir, 'README.md'), 'utf8')).toContain('forge test')
  })

  test('the test contract compiles with solc-js and every test function passes on anvil after setUp', async () => {
    const compiled = compileProject(dir)
    const tc = compiled[`test/${C}.t.sol:${C}Test`]!
    expect(tc).toBeDefined()
    const names = testFunctions(tc.abi)
    expect(names).toContain('test_commitment')
    expect(names).toContain('test_predictBatch')
    expect(names).toContain('test_rejectsBadRowLength')
    expect(names.filter((n) => n.startsWith('test_vector_')).length).toBe(nVectors)

    const at = await deployAndSetUp(tc)
    expect(await runTests(tc, at)).toEqual([])

    // negative control: the checks have teeth. Change one expected output; that vector must revert with OutputMismatch.
    const file = `test/${C}.t.sol`
    const src = readFileSync(path.join(dir, file), 'utf8')
    const m = /function test_vector_0\(\)[\s\S]*?want\[0\] = (-?\d+);/.exec(src)!
    const broken = src.replace(m[0], m[0].replace(`want[0] = ${m[1]};`, `want[0] = ${BigInt(m[1]!) + 1n};`))
    const bad = compileProject(dir, { [file]: broken })[`${file}:${C}Test`]!
    const badAt = await deployAndSetUp(bad)
    const call = (fn: string) => s!.publicClient.call({ account: s!.account, to: badAt, data: encodeFunctionData({ abi: bad.abi, functionName: fn }) })
    await call('test_vector_1') // untouched vectors still pass
    let revertData: Hex | undefined
    try {
      await call('test_vector_0')
    } catch (e) {
      revertData = (e as { walk: (f: (x: unknown) => boolean) => { data?: Hex } | null }).walk((x) => typeof (x as { data?: unknown }).data === 'string')?.data
    }
    expect(revertData).toBeDefined()
    const decoded = decodeErrorResult({ abi: bad.abi, data: revertData! })
    expect(decoded.errorName).toBe('OutputMismatch')
    expect(decoded.args![0]).toBe(0n)
    expect(decoded.args![3]).toBe(BigInt(m[1]!) + 1n)
  })

  test('weights in several chunks: writeChunk(i, …) in order, with the chunk size the contract was generated with', async () => {
    const chunkSize = 100
    const multi = mkdtempSync(path.join(tmpdir(), 'ml2sc-foundry-chunks-'))
    const sol = generateSolidity(plan, { contractName: C, chunkSize })
    const t = readFileSync(path.join(dir, 'test', `${C}.t.sol`), 'utf8')
    const vectors = foundryVectors(plan, [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]])
    await exportFoundry({ dir: multi, solidity: sol, contractName: C, plan, vectors, blob, chunkSize })
    const mt = readFileSync(path.join(multi, 'test', `${C}.t.sol`), 'utf8')
    const chunks = Math.ceil(blob.length / chunkSize)
    expect(chunks).toBeGreaterThan(1)
    expect(mt.match(/model\.writeChunk(\{value: [^}]+\})?\(\d+, hex"/g)?.length).toBe(chunks)
    expect(mt).not.toBe(t)
    const tc = compileProject(multi)[`test/${C}.t.sol:${C}Test`]!
    expect(await runTests(tc, await deployAndSetUp(tc))).toEqual([])
  })

  test('a model with chain.owner: setUp writes the chunks as that owner (vm.startPrank), and the project compiles', async () => {
    const owner = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
    const owned = mkdtempSync(path.join(tmpdir(), 'ml2sc-foundry-owner-'))
    const sol = generateSolidity(plan, { contractName: C, owner })
    expect(sol).toContain(`INITIAL_OWNER = ${owner};`)
    await exportFoundry({ dir: owned, solidity: sol, contractName: C, plan, vectors: foundryVectors(plan, [[5.1, 3.5, 1.4, 0.2]]), blob, owner })
    const t = readFileSync(path.join(owned, 'test', `${C}.t.sol`), 'utf8')
    const prank = t.indexOf(`abi.encodeWithSignature("startPrank(address)", ${owner})`)
    expect(prank).toBeGreaterThan(t.indexOf(`new ${C}()`))
    expect(prank).toBeLessThan(t.indexOf('model.writeChunk{value: address(model).balance == 0 ? 1 : 0}(0,'))
    expect(t.indexOf('"deal(address,uint256)"')).toBeLessThan(t.indexOf('model.writeChunk{value'))
    expect(t.indexOf('stopPrank()')).toBeGreaterThan(t.lastIndexOf('model.writeChunk('))
    expect(compileProject(owned)[`test/${C}.t.sol:${C}Test`]).toBeDefined()
    // without an owner the export has no cheatcode calls beyond placing the admin library
    expect(readFileSync(path.join(dir, 'test', `${C}.t.sol`), 'utf8')).not.toContain('startPrank')
  })
})

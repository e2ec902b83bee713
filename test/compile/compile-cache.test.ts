// ML2SC_COMPILE_CACHE: solc's results shared between processes through a folder. A second process reads
// the entry back instead of compiling; and `fresh` (what verify uses) never trusts the folder: an entry
// rewritten by someone else is not what verify compares the chain's code against.
import { describe, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

const ROOT = path.resolve(import.meta.dir, '../..')
const SOURCE = '// SPDX-License-Identifier: MIT\npragma solidity ^0.8.0;\ncontract CacheProbe { function f() external pure returns (uint256) { return 42; } }\n'

/**
 * Compile SOURCE in a new process with the cache at `dir` (and no solc server: the probe looks for solc-js in that
 * process); the deployed code without fresh, then (with `fresh`) with it, which always loads solc-js there.
 */
function compileIn(dir: string, fresh = true): { plain: string; fresh?: string; solcLoaded: boolean } {
  const script = `
    import { compileSolidity } from './src/compile/compileSolidity.ts'
    const src = ${JSON.stringify(SOURCE)}
    const plain = compileSolidity(src, 'CacheProbe').deployedBytecode
    const loadedBefore = Object.keys(require.cache).some((k) => /node_modules\\/solc\\/soljson/.test(k))
    const fresh = ${fresh} ? compileSolidity(src, 'CacheProbe', { fresh: true }).deployedBytecode : undefined
    console.log(JSON.stringify({ plain, fresh, solcLoaded: loadedBefore }))`
  const r = Bun.spawnSync([process.execPath, '-e', script], { cwd: ROOT, env: { ...process.env, ML2SC_COMPILE_CACHE: dir, ML2SC_COMPILE_SERVER: '' } })
  if (r.exitCode !== 0) throw new Error(r.stderr.toString())
  return JSON.parse(r.stdout.toString().trim().split('\n').at(-1)!)
}

describe('ML2SC_COMPILE_CACHE', () => {
  test('a second process reads the entry back; fresh (verify) ignores an entry someone rewrote', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-cache-'))
    const first = compileIn(dir)
    expect(first.plain).toMatch(/^0x[0-9a-f]{20,}$/)
    expect(first.fresh).toBe(first.plain)
    expect(first.solcLoaded).toBe(true) // (the probe sees solc-js when it was loaded)
    const entries = readdirSync(dir).filter((f) => f.endsWith('.json'))
    expect(entries.length).toBe(1)
    // a second process: the same code, from the folder, without loading solc-js for it (and no fresh compile,
    // which would load solc-js only to repeat the first process's)
    const second = compileIn(dir, false)
    expect(second.plain).toBe(first.plain)
    expect(second.solcLoaded).toBe(false)
    // a forger rewrites the entry: the cache is trusted by plain compiles, never by fresh ones
    const file = path.join(dir, entries[0]!)
    const entry = JSON.parse(readFileSync(file, 'utf8'))
    writeFileSync(file, JSON.stringify({ ...entry, deployedBytecode: '0x6000' }))
    const third = compileIn(dir)
    expect(third.plain).toBe('0x6000')
    expect(third.fresh).toBe(first.plain)
  }, 300_000)

  test("verify's forwarding comparisons (the kernel an update installs, the prefix) ignore a rewritten entry too", () => {
    // process 1 fills the folder (plain compiles); a forger rewrites the kernel's entry; in process 2 a plain
    // localForwarding takes the forged kernel, the fresh one (what verify asks for) compiles its own
    const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-cache-fw-'))
    const script = `
      import path from 'node:path'
      import { readAllRows } from './src/data/readCsv.ts'
      import { loadModel } from './src/model/loadModel.ts'
      import { benchPlan } from './bench/measure.ts'
      import { generateSolidity } from './src/codegen/generateSolidity.ts'
      import { compileSolidity } from './src/compile/compileSolidity.ts'
      import { localForwarding } from './src/pipeline/localForwarding.ts'
      const A = ${JSON.stringify(path.join(ROOT, 'test/fixtures/ml2sc'))}
      const data = await readAllRows(path.join(A, 'processed_data.csv'), { label: 'diagnosis', drop: ['id'], limit: 20 })
      const model = await loadModel({ path: path.join(A, 'weights/MLP_2L4.json'), source: path.join(A, 'models.py'), class: 'MLP_2L4' })
      const plan = benchPlan(model, data.features, undefined, 'datacontract', true)
      const gen = { contractName: 'CacheFw', layout: 'datacontract', forward: true }
      const deployed = compileSolidity(generateSolidity(plan, gen), 'CacheFw').deployedBytecode
      const plain = localForwarding(plan, gen, deployed)()
      const fresh = process.argv.includes('fresh') ? localForwarding(plan, gen, deployed, { fresh: true })() : undefined
      console.log(JSON.stringify({ plain: plain.kernel, fresh: fresh?.kernel }))`
    const run = (...args: string[]) => {
      const r = Bun.spawnSync([process.execPath, '-e', script, ...args], { cwd: ROOT, env: { ...process.env, ML2SC_COMPILE_CACHE: dir } })
      if (r.exitCode !== 0) throw new Error(r.stderr.toString())
      return JSON.parse(r.stdout.toString().trim().split('\n').at(-1)!) as { plain: string; fresh?: string }
    }
    const first = run()
    const kernelEntries = readdirSync(dir).filter((f) => f.endsWith('.json') && JSON.parse(readFileSync(path.join(dir, f), 'utf8')).contractName === 'CacheFwKernel')
    expect(kernelEntries.length).toBe(1)
    const file = path.join(dir, kernelEntries[0]!)
    const entry = JSON.parse(readFileSync(file, 'utf8'))
    // one byte of the kernel's code changed (its last opcode kept, as the payload builder demands)
    const forged = `${entry.deployedBytecode.slice(0, 20)}${entry.deployedBytecode.slice(20, 22) === '00' ? '01' : '00'}${entry.deployedBytecode.slice(22)}`
    writeFileSync(file, JSON.stringify({ ...entry, deployedBytecode: forged }))
    const second = run('fresh')
    expect(second.plain).not.toBe(first.plain)
    expect(second.fresh).toBe(first.plain)
  }, 300_000)
})

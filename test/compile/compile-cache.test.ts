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
})

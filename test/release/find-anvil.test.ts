// Where ml2sc looks for anvil. A compiled binary looks only where a user's machine has it (ANVIL_BIN,
// next to the binary, PATH), never in node_modules, whose resolution inside a compiled binary starts
// from the working directory (so a binary run from its build folder found that folder's anvil).
import { afterAll, describe, expect, test } from 'bun:test'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { anvilCandidates, findAnvil, isCompiledBinary } from '../../src/chain/findAnvil.ts'
import { ChainError } from '../../src/errors/base.ts'
import { ROOT } from '../helpers/paths.ts'

const NPM_ANVIL = path.join(ROOT, 'node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil')

function fakeAnvil(dir: string): string {
  mkdirSync(dir, { recursive: true })
  const f = path.join(dir, 'anvil')
  writeFileSync(f, '#!/bin/sh\n')
  chmodSync(f, 0o755)
  return f
}

describe('isCompiledBinary', () => {
  test("bun's embedded file system (Linux/macOS and Windows) is compiled; a source file is not", () => {
    expect(isCompiledBinary('/$bunfs/root/ml2sc')).toBe(true)
    expect(isCompiledBinary('B:\\~BUN\\root\\ml2sc.exe')).toBe(true)
    expect(isCompiledBinary(path.join(ROOT, 'src/cli.ts'))).toBe(false)
    expect(isCompiledBinary()).toBe(false) // this test runs from source
  })
})

describe('anvilCandidates / findAnvil', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'ml2sc-find-anvil-'))
  afterAll(() => rmSync(work, { recursive: true, force: true }))
  const compiled = (execPath: string) => ({ compiled: true, execPath, platform: 'linux' as const })

  test('compiled: next to the binary, then PATH, in that order; node_modules never', () => {
    const c = anvilCandidates({ PATH: '/a:/b' }, compiled('/opt/ml2sc/ml2sc'))
    expect(c).toEqual([
      { path: '/opt/ml2sc/anvil', from: 'beside the binary' },
      { path: '/a/anvil', from: 'PATH' },
      { path: '/b/anvil', from: 'PATH' },
    ])
  })

  test('from source: the npm package before PATH', () => {
    const c = anvilCandidates({ PATH: '/a' }, { compiled: false, execPath: '/x/bun', platform: 'linux' })
    expect(c.map((x) => x.path)).toEqual([NPM_ANVIL, '/a/anvil'])
    expect(findAnvil({ PATH: '' }, { compiled: false, execPath: '/x/bun', platform: 'linux' })).toBe(NPM_ANVIL)
  })

  test('ANVIL_BIN wins, and is the only place looked at when set', () => {
    const elsewhere = fakeAnvil(path.join(work, 'elsewhere'))
    const beside = fakeAnvil(path.join(work, 'release'))
    expect(findAnvil({ ANVIL_BIN: elsewhere, PATH: '' }, compiled(path.join(work, 'release/ml2sc')))).toBe(elsewhere)
    expect(() => findAnvil({ ANVIL_BIN: path.join(work, 'nope'), PATH: path.dirname(beside) }, compiled(path.join(work, 'release/ml2sc')))).toThrow(/ANVIL_BIN points to .*nope/)
  })

  test('compiled: beside the binary before PATH; PATH when nothing is beside it', () => {
    const beside = fakeAnvil(path.join(work, 'b1'))
    const onPath = fakeAnvil(path.join(work, 'p1'))
    expect(findAnvil({ PATH: path.dirname(onPath) }, compiled(path.join(work, 'b1/ml2sc')))).toBe(beside)
    expect(findAnvil({ PATH: `/nonexistent:${path.dirname(onPath)}` }, compiled(path.join(work, 'empty/ml2sc')))).toBe(onPath)
  })

  test('compiled, nowhere: one ChainError, "anvil was not found", with a hint naming the three places', () => {
    let err: unknown
    try {
      findAnvil({ PATH: '/nonexistent' }, compiled(path.join(work, 'empty/ml2sc')))
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ChainError)
    const line = (err as ChainError).oneLine()
    expect(line).toMatch(/^anvil was not found \(hint: put anvil next to .*empty\/ml2sc or on PATH, or set ANVIL_BIN=/)
    expect(line).not.toContain('\n')
    expect(line).not.toContain('npm install') // a binary user has no npm project
  })
})

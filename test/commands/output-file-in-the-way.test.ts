// Issue 19: a FILE where the output folder goes (e.g. `out`) is one line naming the path, with a hint, exit 1,
// no stack trace, and nothing written; before, `run` and `generate` said "internal error: EEXIST …".
import { describe, expect, test } from 'bun:test'
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ROOT } from '../helpers/paths.ts'
import { runCliInProcess as runCli } from '../helpers/cliInProcess.ts'

/** A copy of examples/iris (a 4-16-3 MLP) with a file named `out` beside its config. */
function irisWithOutFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-out-file-'))
  cpSync(path.join(ROOT, 'examples/iris'), dir, { recursive: true })
  writeFileSync(path.join(dir, 'out'), 'not a folder\n')
  return dir
}

function expectOneLine(r: { code: number; stderr: string }, blocker: string) {
  expect(r.code).toBe(1)
  const lines = r.stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toContain(`${blocker} is a file, not a folder`)
  expect(lines[0]).toContain('--out')
  expect(r.stderr).not.toContain('internal error')
  expect(r.stderr).not.toMatch(/\n\s+at /)
}

describe('a file where the output folder goes', () => {
  for (const command of ['run', 'generate', 'compile']) {
    test(`${command}: one line naming the file, nothing written`, async () => {
      const dir = irisWithOutFile()
      const before = readdirSync(dir).sort()
      const r = await runCli([command, 'ml2sc.yaml'], { cwd: dir })
      expectOneLine(r, path.join(dir, 'out'))
      expect(readdirSync(dir).sort()).toEqual(before)
      expect(readFileSync(path.join(dir, 'out'), 'utf8')).toBe('not a folder\n')
    }, 300_000)
  }

  test('--out under a file: the file is named (ENOTDIR before)', async () => {
    const dir = irisWithOutFile()
    const r = await runCli(['generate', 'ml2sc.yaml', '--out', 'out/sub'], { cwd: dir })
    expectOneLine(r, path.join(dir, 'out'))
    expect(r.stderr).toMatch(/^ml2sc: error: --out:/)
  }, 300_000)

  test('inspect writes nothing there and still works', async () => {
    const dir = irisWithOutFile()
    const r = await runCli(['inspect', 'ml2sc.yaml'], { cwd: dir })
    expect(r.code).toBe(0)
  }, 300_000)

  test('init: --out naming a file, and a config under a file, are refused before writing', async () => {
    const dir = irisWithOutFile()
    const before = readdirSync(dir).sort()
    const a = await runCli(['init', 'weights.json', '--config', 'new.yaml', '--out', 'out'], { cwd: dir })
    expectOneLine(a, path.join(dir, 'out'))
    const b = await runCli(['init', 'weights.json', '--config', 'out/ml2sc.yaml'], { cwd: dir })
    expect(b.code).toBe(1)
    expect(b.stderr.trim().split('\n')).toHaveLength(1)
    expect(b.stderr).toContain(`${path.join(dir, 'out')} is a file, not a folder`)
    expect(b.stderr).toContain('--config')
    expect(readdirSync(dir).sort()).toEqual(before)
  }, 300_000)
})

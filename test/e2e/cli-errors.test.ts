// Bad config, missing files and bad CSV cells: one clear line on stderr, a non-zero exit, no stack trace.
import { describe, expect, test } from 'bun:test'
import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ROOT } from '../helpers/paths.ts'
import { runCliInProcess as runCli } from '../helpers/cliInProcess.ts'

function project(yaml: string, files: Record<string, string> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-bad-'))
  copyFileSync(path.join(ROOT, 'examples/breast-cancer/model.onnx'), path.join(dir, 'model.onnx'))
  copyFileSync(path.join(ROOT, 'examples/breast-cancer/test.csv'), path.join(dir, 'test.csv'))
  for (const [f, t] of Object.entries(files)) writeFileSync(path.join(dir, f), t)
  writeFileSync(path.join(dir, 'ml2sc.yaml'), yaml)
  return path.join(dir, 'ml2sc.yaml')
}

async function expectOneLine(args: string[], pattern: RegExp) {
  const r = await runCli(args)
  expect(r.code).not.toBe(0)
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('ml2sc: error'))
  expect(lines.length).toBe(1)
  expect(lines[0]).toMatch(pattern)
  expect(r.stderr).not.toMatch(/\n\s+at .*\.ts:\d+/) // no stack trace
  return r
}

describe('ml2sc run: bad input', () => {
  test('a typo in a key names the key and suggests the right one', async () => {
    await expectOneLine(['run', project('model:\n  pth: model.onnx\ndata:\n  test: test.csv\n')], /model\.pth.*did you mean 'path'/)
  })
  test('a missing model file names the key and the path', async () => {
    await expectOneLine(['run', project('model:\n  path: nope.onnx\ndata:\n  test: test.csv\n')], /model\.path.*nope\.onnx/)
  })
  test('a missing config file', async () => {
    await expectOneLine(['run', '/nonexistent/ml2sc.yaml'], /ml2sc\.yaml/)
  })
  test('a non-numeric CSV cell names the row and the column', async () => {
    const head = Array.from({ length: 30 }, (_, i) => `f${i}`).join(',') + ',label'
    const ok = new Array(30).fill('0.5').join(',') + ',0'
    const bad = ['0.5', 'abc', ...new Array(28).fill('0.5')].join(',') + ',1'
    const csv = `${head}\n${ok}\n${bad}\n`
    const yaml = project('model:\n  path: model.onnx\ndata:\n  test: bad.csv\n', { 'bad.csv': csv })
    await expectOneLine(['run', yaml], /row 1.*column 'f1'.*'abc'/)
  })
  test('a CSV whose feature count does not match the model', async () => {
    const yaml = project('model:\n  path: model.onnx\ndata:\n  test: small.csv\n', { 'small.csv': 'a,b,label\n1,2,0\n' })
    await expectOneLine(['run', yaml], /30/)
  })
  test('YAML syntax errors give the line', async () => {
    await expectOneLine(['run', project('model: [unclosed\n')], /ml2sc\.yaml:\d+/)
  })
  test('an unknown command', async () => {
    await expectOneLine(['frobnicate'], /Unknown|command/i)
  })
})

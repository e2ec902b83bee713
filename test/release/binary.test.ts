// The standalone binary as a user gets it: `npm run build`'s command, then the binary copied into an
// empty folder (no node_modules, no repo) with anvil beside it, running a whole example with a minimal
// PATH; solc-js must work inside it. Without anvil anywhere it must fail with one clear line and a hint.
import { beforeAll, describe, expect, test } from 'bun:test'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ROOT } from '../helpers/paths.ts'

const ANVIL = path.join(ROOT, 'node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil')
const BUN = path.join(ROOT, 'node_modules/.bin/bun')
/** PATH with the usual system folders only: no anvil, no bun, no node_modules/.bin. */
const MIN_PATH = '/usr/bin:/bin'

async function run(cmd: string[], cwd: string, env: Record<string, string>) {
  const proc = Bun.spawn(cmd, { cwd, env, stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()])
  return { code: await proc.exited, stdout, stderr }
}

/** A bare folder holding the binary (and anvil, if asked) and the breast-cancer example. */
function bareFolder(binary: string, withAnvil: boolean): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-bare-'))
  copyFileSync(binary, path.join(dir, 'ml2sc'))
  if (withAnvil) copyFileSync(ANVIL, path.join(dir, 'anvil'))
  for (const f of ['ml2sc.yaml', 'model.onnx', 'test.csv', 'reference.csv']) copyFileSync(path.join(ROOT, 'examples/breast-cancer', f), path.join(dir, f))
  return dir
}

describe('release binary', () => {
  let binary = ''
  beforeAll(async () => {
    // `npm run build`, exactly as package.json spells it, with the output redirected to a temp folder
    const script = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.build as string
    const args = script.split(/\s+/)
    expect(args[0]).toBe('bun')
    expect(args).toContain('dist/ml2sc')
    const out = mkdtempSync(path.join(tmpdir(), 'ml2sc-build-'))
    binary = path.join(out, 'ml2sc')
    const r = await run([BUN, ...args.slice(1).map((a) => (a === 'dist/ml2sc' ? binary : a))], ROOT, { ...process.env } as Record<string, string>)
    if (r.code !== 0) throw new Error(`the build failed:\n${r.stdout}\n${r.stderr}`)
  })

  test('builds a standalone executable', () => {
    expect(existsSync(binary)).toBe(true)
    expect(statSync(binary).size).toBeGreaterThan(20 * 2 ** 20)
    expect(statSync(binary).mode & 0o111).not.toBe(0)
  })

  test('runs an example from an empty folder with no node_modules, anvil beside it', async () => {
    const dir = bareFolder(binary, true)
    expect(existsSync(path.join(dir, 'node_modules'))).toBe(false)
    const env = { PATH: MIN_PATH, HOME: dir, CI: '1' }
    const v = await run(['./ml2sc', '--version'], dir, env)
    expect(v.code).toBe(0)
    expect(v.stdout.trim()).toBe(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version)
    const r = await run(['./ml2sc', 'run', 'ml2sc.yaml'], dir, env)
    expect(r.stderr).not.toContain('ml2sc: error')
    expect(r.code).toBe(0)
    const out = path.join(dir, 'out')
    for (const f of ['report.json', 'report.html', 'report.md', 'predictions.csv', 'deployment.json']) expect(existsSync(path.join(out, f))).toBe(true)
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'))
    expect(report.tools.solc).toMatch(/^0\.8\.\d+/) // solc-js compiled inside the binary
    expect(report.tools.anvil).toMatch(/^anvil /)
    expect(report.reference.source).toBe('pytorch-csv') // agreement is with PyTorch's own outputs (data.reference)
    expect(report.accuracy.agreement).toBe(1)
    expect(report.simulator.mismatches).toBe(0)
    expect(report.gas.inference.perRow).toBeGreaterThan(0)
  })

  test('ANVIL_BIN is honoured; without any anvil: one line, "anvil was not found", with a hint', async () => {
    const dir = bareFolder(binary, false)
    // ANVIL_BIN to something that is not there: named, with a hint
    const bad = await run(['./ml2sc', 'run', 'ml2sc.yaml'], dir, { PATH: MIN_PATH, HOME: dir, CI: '1', ANVIL_BIN: path.join(dir, 'nope', 'anvil') })
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toMatch(/ANVIL_BIN.*nope\/anvil.*hint:/)

    const r = await run(['./ml2sc', 'run', 'ml2sc.yaml'], dir, { PATH: MIN_PATH, HOME: dir, CI: '1' })
    expect(r.code).not.toBe(0)
    const errors = r.stderr.trim().split('\n').filter((l) => l.startsWith('ml2sc: error'))
    expect(errors.length).toBe(1)
    expect(errors[0]).toMatch(/anvil was not found/)
    expect(errors[0]).toMatch(/\(hint: .*ANVIL_BIN.*\)/)
    expect(r.stderr).not.toMatch(/\n\s+at /) // no stack trace
    expect(existsSync(path.join(dir, 'out', 'report.json'))).toBe(false)

    // ANVIL_BIN pointing at a real anvil elsewhere is found (started, then the run goes on)
    mkdirSync(path.join(dir, 'tools'))
    copyFileSync(ANVIL, path.join(dir, 'tools', 'anvil'))
    const ok = await run(['./ml2sc', 'run', 'ml2sc.yaml', '--quiet'], dir, { PATH: MIN_PATH, HOME: dir, CI: '1', ANVIL_BIN: path.join(dir, 'tools', 'anvil') })
    expect(ok.stderr).toBe('')
    expect(ok.code).toBe(0)
    expect(existsSync(path.join(dir, 'out', 'report.json'))).toBe(true)
  })
})

// The host's release archive as a user gets it: built by scripts/release.ts (the function `npm run release`
// runs, for the host target only), checked against SHA256SUMS, unpacked in an empty folder and run with a
// PATH that holds only sh, tar, gzip and sha256sum (no node, no bun, no anvil), then `./ml2sc run` on the
// example inside it. Also: the binary never uses the anvil of the folder it was built in.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { BUILD_FLAGS, buildRelease, HOST, TARGETS, type TargetResult } from '../../scripts/release.ts'
import { ROOT } from '../helpers/paths.ts'

// Generous: building the binary and gzipping ~165 MB (at level 1), then a whole run, take ~40 s on an idle 2-core
// machine; the limit only guards against a hang, so that a 5x slower machine still passes.
const LIMIT = 600_000
const VERSION: string = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version
const SOLC: string = JSON.parse(readFileSync(path.join(ROOT, 'node_modules/solc/package.json'), 'utf8')).version
const ANVIL: string = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).dependencies['@foundry-rs/anvil']

const work = mkdtempSync(path.join(tmpdir(), 'ml2sc-archive-'))
const outDir = path.join(work, 'release')
/** A PATH of its own: symlinks to the few tools a user needs to check and unpack the archive. */
const binDir = path.join(work, 'bin')
const home = path.join(work, 'home')
const env = { PATH: binDir, HOME: home, TMPDIR: home, CI: '1' }

async function run(cmd: string[], cwd: string, e: Record<string, string> = env) {
  const proc = Bun.spawn(cmd, { cwd, env: e, stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()])
  return { code: await proc.exited, stdout, stderr }
}
/** A shell line run with the bare PATH (so `tar` and `sha256sum` are found there, or not at all). */
const sh = (line: string, cwd: string) => run([path.join(binDir, 'sh'), '-c', line], cwd)

describe('release archive of the host target', () => {
  let result: TargetResult
  let folder = ''

  beforeAll(async () => {
    mkdirSync(binDir, { recursive: true })
    mkdirSync(home, { recursive: true })
    for (const tool of ['sh', 'tar', 'gzip', 'sha256sum']) symlinkSync(Bun.which(tool)!, path.join(binDir, tool))
    const host = TARGETS.find((t) => t.name === HOST)
    if (!host) throw new Error(`no release target for this machine (${HOST})`)
    // gzip -1, not the release's default -6: the same .tar.gz format, unpacked below by the same `tar -xzf`, for
    // about a third of the CPU (gzipping ~165 MB at -6 was half of this file's CPU)
    ;[result] = await buildRelease([host], { outDir, compressionLevel: 1 })
    folder = path.join(home, `ml2sc-${VERSION}-${HOST}`)
  }, LIMIT)
  afterAll(() => rmSync(work, { recursive: true, force: true }))

  test('the bare PATH holds no node, bun or anvil', () => {
    expect(readdirSync(binDir).sort()).toEqual(['gzip', 'sh', 'sha256sum', 'tar'])
    for (const t of ['node', 'nodejs', 'bun', 'anvil']) expect(Bun.which(t, { PATH: binDir })).toBeNull()
  })

  test('one archive, named for version and target, covered by SHA256SUMS; release.json says where anvil came from', async () => {
    expect(result.error).toBeUndefined()
    expect(result.ok).toBe(true)
    expect(result.archive).toBe(`ml2sc-${VERSION}-${HOST}.tar.gz`)
    expect(readdirSync(outDir).sort()).toEqual(['SHA256SUMS', 'release.json', result.archive!].sort()) // no staging left over
    expect(readFileSync(path.join(outDir, 'SHA256SUMS'), 'utf8')).toBe(`${result.sha256}  ${result.archive}\n`)
    const rel = JSON.parse(readFileSync(path.join(outDir, 'release.json'), 'utf8'))
    expect(rel.ml2sc).toBe(VERSION)
    expect(rel.targets[0].anvil).toMatchObject({ package: '@foundry-rs/anvil-linux-amd64', version: ANVIL, from: 'node_modules' })
    expect(rel.targets[0].anvil.integrity).toMatch(/^sha512-/)
    // the build flags are the ones `npm run build` uses
    const build = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.build as string
    for (const f of BUILD_FLAGS) expect(build.split(/\s+/)).toContain(f)
  }, LIMIT)

  test('download, check the sum, unpack: the folder holds ml2sc, anvil, the example and a README', async () => {
    copyFileSync(path.join(outDir, result.archive!), path.join(home, result.archive!))
    copyFileSync(path.join(outDir, 'SHA256SUMS'), path.join(home, 'SHA256SUMS'))
    const check = await sh('sha256sum -c SHA256SUMS', home)
    expect(check.stdout.trim()).toBe(`${result.archive}: OK`)
    expect(check.code).toBe(0)
    const untar = await sh(`tar -xzf ${result.archive}`, home)
    expect(untar.stderr).toBe('')
    expect(untar.code).toBe(0)
    expect(readdirSync(folder).sort()).toEqual(['README.md', 'anvil', 'example', 'ml2sc'])
    expect(readdirSync(path.join(folder, 'example')).sort()).toEqual(readdirSync(path.join(ROOT, 'examples/breast-cancer')).filter((f) => f !== 'out').sort())
    const readme = readFileSync(path.join(folder, 'README.md'), 'utf8')
    expect(readme).toContain('./ml2sc run example/ml2sc.yaml')
    expect(readme).toContain(`anvil ${ANVIL}`)
  }, LIMIT)

  test('./ml2sc --version: ml2sc, solc and the anvil beside it', async () => {
    const v = await run(['./ml2sc', '--version'], folder)
    expect(v.stderr).toBe('')
    expect(v.code).toBe(0)
    const lines = v.stdout.trim().split('\n')
    expect(lines.length).toBe(3)
    expect(lines[0]).toBe(`ml2sc ${VERSION}`)
    expect(lines[1]).toMatch(new RegExp(`^solc ${SOLC.replaceAll('.', '\\.')}\\+commit\\.[0-9a-f]{8}`))
    expect(lines[2]).toMatch(new RegExp(`^anvil ${ANVIL.replaceAll('.', '\\.')} \\([0-9a-f]{7}\\) ${folder}/anvil$`))
  }, LIMIT)

  test('./ml2sc run example/ml2sc.yaml: the whole pipeline on the anvil beside it, agreeing with PyTorch', async () => {
    const r = await run(['./ml2sc', 'run', 'example/ml2sc.yaml'], folder)
    expect(r.stderr).not.toContain('ml2sc: error')
    expect(r.code).toBe(0)
    const out = path.join(folder, 'example/out')
    for (const f of ['report.json', 'report.html', 'report.md', 'predictions.csv', 'deployment.json']) expect(existsSync(path.join(out, f))).toBe(true)
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'))
    expect(report.tools.solc).toStartWith(SOLC) // solc-js compiled inside the binary
    expect(report.tools.anvil).toStartWith(`anvil ${ANVIL}`)
    expect(report.reference.source).toBe('pytorch-csv') // agreement is with PyTorch's own outputs (data.reference)
    expect(report.accuracy.agreement).toBe(1)
    expect(report.simulator.mismatches).toBe(0)
    for (const g of [report.gas.deploy, report.gas.inference.perRow, report.gas.predictSingle]) expect(g).toBeGreaterThan(0)
    // accuracy.onchain is what predictions.csv says: the contract's classes against the labels
    const rows = readFileSync(path.join(out, 'predictions.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','))
    expect(rows.length).toBe(report.gas.inference.rows)
    expect(rows.length).toBe(50)
    // over the rows precision: auto did not choose its widths on (report.json names the calibration rows)
    const cal = report.accuracy.rows.excluded as { first: number; last: number } | null
    const held = rows.filter((c) => !cal || Number(c[0]) < cal.first || Number(c[0]) > cal.last)
    expect(held.length).toBe(report.accuracy.rows.count)
    expect(report.accuracy.onchain).toBeCloseTo(held.filter((c) => c[1] === c[2]).length / held.length, 10)
    expect(report.accuracy.onchain).toBeGreaterThan(0.9)
  }, LIMIT)

  test('never the anvil of the build folder: run from the repo (which has node_modules/@foundry-rs), alone', async () => {
    const solo = path.join(work, 'solo')
    mkdirSync(solo)
    copyFileSync(path.join(folder, 'ml2sc'), path.join(solo, 'ml2sc'))
    const v = await run([path.join(solo, 'ml2sc'), '--version'], ROOT)
    expect(v.code).toBe(0)
    expect(v.stdout.trim().split('\n')[2]).toMatch(/^anvil not found \(hint: put anvil next to .*solo\/ml2sc or on PATH, or set ANVIL_BIN=/)
    const r = await run([path.join(solo, 'ml2sc'), 'run', 'ml2sc.yaml.example', '--out', path.join(solo, 'out')], ROOT)
    expect(r.code).not.toBe(0)
    const errors = r.stderr.trim().split('\n').filter((l) => l.startsWith('ml2sc: error'))
    expect(errors).toEqual([expect.stringMatching(/^ml2sc: error: anvil was not found \(hint: .*ANVIL_BIN.*\)$/)])
    expect(r.stderr).not.toMatch(/\n\s+at /) // no stack trace
    expect(existsSync(path.join(solo, 'out', 'report.json'))).toBe(false)
  }, LIMIT)

  test('ANVIL_BIN: a wrong path is named with a hint; a right one is the anvil used', async () => {
    const bad = await run(['./ml2sc', 'run', 'example/ml2sc.yaml'], folder, { ...env, ANVIL_BIN: path.join(work, 'nope', 'anvil') })
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toMatch(/ANVIL_BIN.*nope\/anvil.*hint:/)
    const tools = path.join(work, 'tools')
    mkdirSync(tools)
    renameSync(path.join(folder, 'anvil'), path.join(tools, 'anvil'))
    const v = await run(['./ml2sc', '--version'], folder, { ...env, ANVIL_BIN: path.join(tools, 'anvil') })
    expect(v.stdout.trim().split('\n')[2]).toMatch(new RegExp(`^anvil ${ANVIL.replaceAll('.', '\\.')} .* ${tools}/anvil$`))
    const none = await run(['./ml2sc', '--version'], folder)
    expect(none.stdout.trim().split('\n')[2]).toStartWith('anvil not found (hint: ')
  }, LIMIT)
})

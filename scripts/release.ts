#!/usr/bin/env bun
/**
 * `npm run release`: one archive per platform in dist/release/, `ml2sc-<version>-<target>.tar.gz` (`.zip`
 * for Windows), each holding one folder with
 *   - `ml2sc`: the standalone binary for that platform (`bun build --compile --target=…`; solc-js inside),
 *   - `anvil` beside it, from Foundry's npm package for that platform (scripts/release/anvilBinary.ts),
 *   - `example/`: the breast-cancer example (what `npm start` runs) with a config that runs from there,
 *   - `README.md`;
 * plus SHA256SUMS (of the archives) and release.json (what was built, from what, what failed and why).
 *
 * Cross targets need bun to fetch that platform's bun runtime and npm to fetch its anvil package, once
 * (both are cached); offline, those targets fail and are reported as failed, never faked. The host target
 * needs no download. Exit code 0 only if every target was built (`--allow-partial`: 0 whenever the host's was).
 *
 *   bun scripts/release.ts [--targets linux-x64,darwin-arm64] [--allow-partial] [--timeout 300]
 */
import { createHash } from 'node:crypto'
import { createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import solcPackage from 'solc/package.json' with { type: 'json' }
import { ML2SC_VERSION } from '../src/version.ts'
import { anvilBinary, type AnvilBinary } from './release/anvilBinary.ts'
import { archiveReadme } from './release/archiveReadme.ts'
import { fillStage, packArchive, stageFolder } from './release/packArchive.ts'
import { HOST, ROOT, TARGETS, type Target } from './release/targets.ts'

export { HOST, ROOT, TARGETS }

/** Flags shared with `npm run build` (package.json): prool's optional alto launcher is never used. */
export const BUILD_FLAGS = ['--compile', '--external', '@pimlico/alto']

export type TargetResult = {
  name: string
  bunTarget: string
  ok: boolean
  /** The archive's file name in the output folder. */
  archive?: string
  bytes?: number
  sha256?: string
  anvil?: Omit<AnvilBinary, 'path'>
  seconds: number
  error?: string
  note?: string
}

export type ReleaseOptions = {
  outDir?: string
  cacheDir?: string
  timeoutMs?: number
  log?: (line: string) => void
  /** The environment of `bun build` and `npm pack` (default: this process's); the tests use it to go offline. */
  env?: Record<string, string | undefined>
  /** The archives' compression level (1-9; default: gzip's and zip's own, 6). The archive test packs at 1, to spend less CPU. */
  compressionLevel?: number
}

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256')
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer)
  return h.digest('hex')
}

/** Run `bun build` with a deadline; returns its exit code and the tail of its output. */
async function bunBuild(args: string[], timeoutMs: number, env?: ReleaseOptions['env']): Promise<{ code: number; out: string; timedOut: boolean }> {
  const proc = Bun.spawn([process.execPath, 'build', ...args], { cwd: ROOT, env, stdout: 'pipe', stderr: 'pipe' })
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    proc.kill()
  }, timeoutMs)
  const [o, e] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()])
  const code = await proc.exited
  clearTimeout(timer)
  return { code, out: `${o}\n${e}`.trim(), timedOut }
}

/** The one line of bun's output that says why, not the whole log. */
function why(out: string): string {
  const lines = out.split('\n').map((l) => l.trim()).filter(Boolean)
  return lines.find((l) => /^error|failed|fetch|download|ENOTFOUND|ECONN|network|unable/i.test(l)) ?? lines[lines.length - 1] ?? 'no output'
}

/** Compile ml2sc for `t` to `outfile`; the host is retried without --target (it needs no download). Throws why not. */
async function compileBinary(t: Target, outfile: string, timeoutMs: number, env?: ReleaseOptions['env']): Promise<string | undefined> {
  let r = await bunBuild([...BUILD_FLAGS, `--target=${t.bunTarget}`, 'src/cli.ts', '--outfile', outfile], timeoutMs, env)
  if ((r.code !== 0 || !existsSync(outfile)) && t.name === HOST) {
    const retry = await bunBuild([...BUILD_FLAGS, 'src/cli.ts', '--outfile', outfile], timeoutMs, env)
    if (retry.code === 0 && existsSync(outfile)) return `--target=${t.bunTarget} failed (${why(r.out)}); built for the host without --target`
    r = retry
  }
  if (r.code === 0 && existsSync(outfile)) return undefined
  throw new Error(r.timedOut ? `timed out after ${timeoutMs / 1000}s (downloading the ${t.bunTarget} runtime?)` : `bun build: ${why(r.out)}`)
}

/**
 * Build one target's archive into `outDir`: compile the binary, fetch anvil, stage the folder, pack it,
 * hash it. Never throws: a failure is a result with `ok: false` and the reason.
 */
export async function buildTarget(t: Target, opts: ReleaseOptions = {}): Promise<TargetResult> {
  const outDir = opts.outDir ?? path.join(ROOT, 'dist/release')
  const cacheDir = opts.cacheDir ?? path.join(ROOT, 'dist/cache')
  const t0 = performance.now()
  const seconds = () => Math.round((performance.now() - t0) / 100) / 10
  mkdirSync(outDir, { recursive: true })
  const stageRoot = mkdtempSync(path.join(outDir, '.stage-'))
  const res: TargetResult = { name: t.name, bunTarget: t.bunTarget, ok: false, seconds: 0 }
  try {
    const dir = stageFolder(stageRoot, ML2SC_VERSION, t)
    mkdirSync(dir, { recursive: true })
    res.note = await compileBinary(t, path.join(dir, `ml2sc${t.exe}`), opts.timeoutMs ?? 300_000, opts.env)
    const anvil = await anvilBinary(t, cacheDir, opts.env)
    res.anvil = { package: anvil.package, version: anvil.version, from: anvil.from, integrity: anvil.integrity }
    fillStage(dir, t, anvil.path, archiveReadme(ML2SC_VERSION, t, anvil, solcPackage.version))
    const archive = await packArchive(stageRoot, outDir, ML2SC_VERSION, t, opts.compressionLevel)
    Object.assign(res, { ok: true, archive: path.basename(archive), bytes: statSync(archive).size, sha256: await sha256(archive) })
  } catch (e) {
    res.error = (e as Error).message
  } finally {
    rmSync(stageRoot, { recursive: true, force: true })
  }
  res.seconds = seconds()
  return res
}

/** Build the given targets into a fresh `outDir`, then write SHA256SUMS (built archives) and release.json (all). */
export async function buildRelease(targets: readonly Target[], opts: ReleaseOptions = {}): Promise<TargetResult[]> {
  const outDir = opts.outDir ?? path.join(ROOT, 'dist/release')
  const log = opts.log ?? (() => {})
  rmSync(outDir, { recursive: true, force: true })
  mkdirSync(outDir, { recursive: true })
  const results: TargetResult[] = []
  for (const t of targets) {
    const r = await buildTarget(t, { ...opts, outDir })
    results.push(r)
    log(
      r.ok
        ? `• ${t.name.padEnd(13)} ok      ${r.archive}  ${(r.bytes! / 2 ** 20).toFixed(0)} MB  ${r.seconds}s  (anvil ${r.anvil!.version} from ${r.anvil!.from})${r.note ? `  (${r.note})` : ''}`
        : `• ${t.name.padEnd(13)} FAILED  ${r.error}`,
    )
  }
  const built = results.filter((r) => r.ok)
  writeFileSync(path.join(outDir, 'SHA256SUMS'), built.map((r) => `${r.sha256}  ${r.archive}`).join('\n') + (built.length ? '\n' : ''))
  const release = { ml2sc: ML2SC_VERSION, bun: Bun.version, solc: solcPackage.version, host: HOST, createdAt: new Date().toISOString(), targets: results }
  writeFileSync(path.join(outDir, 'release.json'), JSON.stringify(release, null, 2) + '\n')
  return results
}

async function main(argv: string[]): Promise<number> {
  const arg = (k: string) => {
    const i = argv.indexOf(k)
    return i >= 0 ? argv[i + 1] : undefined
  }
  const only = arg('--targets')?.split(',')
  const unknown = only?.filter((n) => !TARGETS.some((t) => t.name === n))
  if (unknown?.length) {
    console.error(`release: error: unknown target ${unknown.join(', ')} (hint: one of ${TARGETS.map((t) => t.name).join(', ')})`)
    return 1
  }
  const outDir = path.join(ROOT, 'dist/release')
  const targets = TARGETS.filter((t) => !only || only.includes(t.name))
  const results = await buildRelease(targets, { outDir, timeoutMs: Number(arg('--timeout') ?? 300) * 1000, log: (l) => console.log(l) })
  const built = results.filter((r) => r.ok)
  const failed = results.filter((r) => !r.ok)
  console.log(`\n${built.length} of ${results.length} archive(s) in ${path.relative(process.cwd(), outDir) || outDir}/ (SHA256SUMS, release.json)`)
  if (failed.length) {
    console.log(`failed: ${failed.map((f) => `${f.name} (${f.error})`).join('; ')}`)
    console.log("cross targets need network access once: bun downloads each target's runtime, npm its anvil package; both are cached")
  }
  const hostOk = built.some((r) => r.name === HOST) || !targets.some((t) => t.name === HOST)
  return failed.length === 0 || (argv.includes('--allow-partial') && hostOk) ? 0 : 1
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2))

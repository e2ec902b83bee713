#!/usr/bin/env bun
/**
 * `npm run release`: standalone ml2sc binaries for every platform, with `bun build --compile`, into
 * dist/release/, plus SHA256SUMS and release.json (what was built, what failed and why).
 *
 * Cross targets need bun to fetch that platform's bun runtime (from npm) the first time; offline, those
 * targets fail and are reported as failed, never faked. The host target needs no download and is always
 * built. Exit code 0 only if every target was built (`--allow-partial`: 0 whenever the host target was).
 *
 *   bun scripts/release.ts [--targets linux-x64,darwin-arm64] [--allow-partial] [--timeout 300]
 *
 * The binaries do not contain anvil: they look for it in ANVIL_BIN, next to the binary, then on PATH.
 */
import { createHash } from 'node:crypto'
import { createReadStream, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { ML2SC_VERSION } from '../src/version.ts'

export const ROOT = path.resolve(import.meta.dir, '..')

/** Flags shared with `npm run build` (package.json): prool's optional alto launcher is never used. */
export const BUILD_FLAGS = ['--compile', '--external', '@pimlico/alto']

export const TARGETS = [
  { name: 'linux-x64', target: 'bun-linux-x64', file: 'ml2sc-linux-x64' },
  { name: 'linux-arm64', target: 'bun-linux-arm64', file: 'ml2sc-linux-arm64' },
  { name: 'darwin-x64', target: 'bun-darwin-x64', file: 'ml2sc-darwin-x64' },
  { name: 'darwin-arm64', target: 'bun-darwin-arm64', file: 'ml2sc-darwin-arm64' },
  { name: 'windows-x64', target: 'bun-windows-x64', file: 'ml2sc-windows-x64.exe' },
] as const

const HOST = `${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`

type Result = { name: string; target: string; file: string; ok: boolean; bytes?: number; sha256?: string; seconds: number; error?: string; note?: string }

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256')
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer)
  return h.digest('hex')
}

/** Run `bun build` with a deadline; returns its exit code and the tail of its output. */
async function bunBuild(args: string[], timeoutMs: number): Promise<{ code: number; out: string; timedOut: boolean }> {
  const proc = Bun.spawn([process.execPath, 'build', ...args], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
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

async function main(argv: string[]) {
  const arg = (k: string) => {
    const i = argv.indexOf(k)
    return i >= 0 ? argv[i + 1] : undefined
  }
  const only = arg('--targets')?.split(',')
  const timeoutMs = Number(arg('--timeout') ?? 300) * 1000
  const allowPartial = argv.includes('--allow-partial')
  const outDir = path.join(ROOT, 'dist/release')
  rmSync(outDir, { recursive: true, force: true })
  mkdirSync(outDir, { recursive: true })

  const targets = TARGETS.filter((t) => !only || only.includes(t.name))
  const results: Result[] = []
  for (const t of targets) {
    const outfile = path.join(outDir, t.file)
    const t0 = performance.now()
    process.stdout.write(`• ${t.name.padEnd(13)} `)
    let r = await bunBuild([...BUILD_FLAGS, `--target=${t.target}`, 'src/cli.ts', '--outfile', outfile], timeoutMs)
    let note: string | undefined
    if ((r.code !== 0 || !existsSync(outfile)) && t.name === HOST) {
      // the host needs no download: build for it without --target
      const retry = await bunBuild([...BUILD_FLAGS, 'src/cli.ts', '--outfile', outfile], timeoutMs)
      if (retry.code === 0 && existsSync(outfile)) {
        note = `--target=${t.target} failed (${why(r.out)}); built for the host without --target`
        r = retry
      }
    }
    const seconds = Math.round((performance.now() - t0) / 100) / 10
    if (r.code === 0 && existsSync(outfile)) {
      const res: Result = { ...t, ok: true, bytes: statSync(outfile).size, sha256: await sha256(outfile), seconds, note }
      results.push(res)
      console.log(`ok      ${(res.bytes! / 2 ** 20).toFixed(0)} MB  ${seconds}s${note ? `  (${note})` : ''}`)
    } else {
      const error = r.timedOut ? `timed out after ${timeoutMs / 1000}s (downloading the ${t.target} runtime?)` : why(r.out)
      results.push({ ...t, ok: false, seconds, error })
      console.log(`FAILED  ${error}`)
    }
  }

  const built = results.filter((r) => r.ok)
  writeFileSync(path.join(outDir, 'SHA256SUMS'), built.map((r) => `${r.sha256}  ${r.file}`).join('\n') + (built.length ? '\n' : ''))
  writeFileSync(
    path.join(outDir, 'release.json'),
    JSON.stringify({ ml2sc: ML2SC_VERSION, bun: Bun.version, host: HOST, createdAt: new Date().toISOString(), targets: results }, null, 2) + '\n',
  )
  const failed = results.filter((r) => !r.ok)
  console.log(`\n${built.length} of ${results.length} target(s) built into ${path.relative(process.cwd(), outDir) || outDir}/ (SHA256SUMS, release.json)`)
  if (failed.length) {
    console.log(`failed: ${failed.map((f) => `${f.name} (${f.error})`).join('; ')}`)
    console.log('cross targets need network access once: bun downloads each target\'s runtime and caches it')
  }
  const hostOk = built.some((r) => r.name === HOST) || !targets.some((t) => t.name === HOST)
  return failed.length === 0 || (allowPartial && hostOk) ? 0 : 1
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2))

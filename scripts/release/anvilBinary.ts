/**
 * Each target's anvil, from Foundry's npm package for that platform: the host's is already in
 * node_modules (an optional dependency of @foundry-rs/anvil); the others are fetched once with
 * `npm pack <package>@<version>` into a cache folder; npm checks the registry's integrity hash, and it must
 * equal the one package-lock.json holds for that package (all five are there, as optional dependencies).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { ANVIL_VERSION, ROOT, type Target } from './targets.ts'

export type AnvilBinary = { path: string; package: string; version: string; from: 'node_modules' | 'npm pack' | 'cache'; integrity?: string }

async function exec(cmd: string[], cwd: string, env?: Record<string, string | undefined>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const proc = Bun.spawn(cmd, { cwd, env, stdout: 'pipe', stderr: 'pipe' })
    const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()])
    return { code: await proc.exited, stdout, stderr }
  } catch (e) {
    return { code: 127, stdout: '', stderr: `${cmd[0]}: ${(e as Error).message}` }
  }
}

const pkgVersion = (dir: string): string | undefined => {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).version
  } catch {
    return undefined
  }
}

/** The integrity hash package-lock.json holds for an installed package (what npm checked when it installed it). */
function lockedIntegrity(pkg: string): string | undefined {
  try {
    return JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')).packages[`node_modules/${pkg}`]?.integrity
  } catch {
    return undefined
  }
}

/** The anvil binary for `t`, at ANVIL_VERSION. Throws an Error whose message says why it could not be had. */
/** `env`: the environment of `npm pack` (default: this process's). */
export async function anvilBinary(t: Target, cacheDir: string, env?: Record<string, string | undefined>): Promise<AnvilBinary> {
  const exe = `anvil${t.exe}`
  const base = { package: t.anvilPackage, version: ANVIL_VERSION }
  const installed = path.join(ROOT, 'node_modules', t.anvilPackage)
  if (pkgVersion(installed) === ANVIL_VERSION && existsSync(path.join(installed, 'bin', exe))) {
    return { ...base, path: path.join(installed, 'bin', exe), from: 'node_modules', integrity: lockedIntegrity(t.anvilPackage) }
  }
  const dir = path.join(cacheDir, `${t.anvilPackage.replace('/', '+')}@${ANVIL_VERSION}`)
  const bin = path.join(dir, 'package', 'bin', exe)
  const meta = path.join(dir, 'pack.json')
  if (existsSync(bin) && existsSync(meta) && pkgVersion(path.join(dir, 'package')) === ANVIL_VERSION) {
    return { ...base, path: bin, from: 'cache', integrity: JSON.parse(readFileSync(meta, 'utf8')).integrity }
  }
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const spec = `${t.anvilPackage}@${ANVIL_VERSION}`
  const pack = await exec(['npm', 'pack', spec, '--pack-destination', dir, '--json', '--ignore-scripts'], dir, env)
  let json: { filename?: string; integrity?: string }[] | { error?: { summary?: string } } | undefined
  try {
    json = JSON.parse(pack.stdout)
  } catch {}
  const info = Array.isArray(json) ? json[0] : undefined
  if (pack.code !== 0 || !info?.filename) {
    const reason = (json && !Array.isArray(json) && json.error?.summary) || pack.stderr.split('\n').find((l) => /error/i.test(l))?.replace(/^npm error\s*/, '') || `exit ${pack.code}`
    throw new Error(`npm pack ${spec} failed (${reason.trim()}); anvil for ${t.name} needs the npm registry once`)
  }
  const locked = lockedIntegrity(t.anvilPackage)
  if (locked && info.integrity !== locked) throw new Error(`npm pack ${spec} gave integrity ${info.integrity}, package-lock.json has ${locked}`)
  const untar = await exec(['tar', '-xzf', info.filename, '-C', dir], dir)
  if (untar.code !== 0 || !existsSync(bin)) throw new Error(`${info.filename} from npm pack holds no package/bin/${exe} (${untar.stderr.trim() || 'tar found nothing'})`)
  const got = pkgVersion(path.join(dir, 'package'))
  if (got !== ANVIL_VERSION) throw new Error(`${info.filename} is version ${got}, not ${ANVIL_VERSION}`)
  rmSync(path.join(dir, info.filename))
  writeFileSync(meta, JSON.stringify({ spec, integrity: info.integrity }, null, 2) + '\n')
  return { ...base, path: bin, from: 'npm pack', integrity: info.integrity }
}

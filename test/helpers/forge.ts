// Real forge (Foundry 1.7.1, the npm package @foundry-rs/forge) for the tests: offline, compiling with
// solc-js through scripts/solc-js-shim, since no native solc can be downloaded here.
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { ROOT } from './paths.ts'

export const SOLC_SHIM = path.join(ROOT, 'scripts/solc-js-shim')

/**
 * The time a test that runs forge may take: a build compiles every contract with solc-js (about 10 s here,
 * more on a busy or slower machine). Generous on purpose: it only stops a hung forge.
 */
export const FORGE_TIMEOUT = 600_000

/** The forge binary of @foundry-rs/forge's platform package (FORGE_BIN overrides), or undefined. */
export function findForge(): string | undefined {
  if (process.env.FORGE_BIN) return process.env.FORGE_BIN
  const arch = process.arch === 'x64' ? 'amd64' : process.arch
  try {
    const json = createRequire(import.meta.url).resolve(`@foundry-rs/forge-${process.platform}-${arch}/package.json`)
    const bin = path.join(path.dirname(json), 'bin', process.platform === 'win32' ? 'forge.exe' : 'forge')
    return existsSync(bin) ? bin : undefined
  } catch {
    return undefined
  }
}

export type ForgeRun = { code: number; stdout: string; stderr: string; passed: number; failed: number; failures: string[] }

/**
 * `forge test` in a Foundry project, never touching the network: --offline and FOUNDRY_OFFLINE, and the
 * compiler is the solc-js shim (--use), so forge has nothing to download. Returns the exit code, the counts
 * from forge's summary line, and the names of the failed tests.
 */
export async function forgeTest(dir: string, args: string[] = []): Promise<ForgeRun> {
  const forge = findForge()
  if (!forge) throw new Error('forge not found: run `npm install` (it installs @foundry-rs/forge)')
  const proc = Bun.spawn([forge, 'test', '--offline', '--use', SOLC_SHIM, '--color', 'never', ...args], {
    cwd: dir,
    stdout: 'pipe',
    stderr: 'pipe',
    env: { ...process.env, FOUNDRY_OFFLINE: 'true', NO_COLOR: '1', FOUNDRY_DISABLE_NIGHTLY_WARNING: '1' },
  })
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()])
  const code = await proc.exited
  const m = /(\d+) tests passed, (\d+) failed/.exec(stdout)
  // forge lists each failure twice (in its suite, and again under "Failing tests")
  const failures = [...new Set([...stdout.matchAll(/^\[FAIL.*\] (\w+)\(\) \(/gm)].map((x) => x[1]!))]
  return { code, stdout, stderr, passed: Number(m?.[1] ?? 0), failed: Number(m?.[2] ?? 0), failures }
}

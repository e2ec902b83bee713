import { statSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { ChainError } from '../errors/base.ts'

/** The npm package of @foundry-rs/anvil that holds this platform's binary (its optional dependency). */
function anvilPackage(platform = process.platform, arch = process.arch): string | undefined {
  const a = arch === 'x64' ? 'amd64' : arch === 'arm64' ? 'arm64' : undefined
  if (!a || !['linux', 'darwin', 'win32'].includes(platform)) return undefined
  return `@foundry-rs/anvil-${platform}-${a}`
}

const isFile = (p: string) => {
  try {
    return statSync(p).isFile()
  } catch {
    return false
  }
}

/**
 * True inside a `bun build --compile` binary: its modules live in bun's embedded file system
 * (`/$bunfs/root/…`, or `B:\~BUN\root\…` on Windows), whatever the binary is called.
 */
export function isCompiledBinary(main: string = typeof Bun === 'undefined' ? '' : Bun.main): boolean {
  return main.startsWith('/$bunfs/') || /^[A-Za-z]:[\\/]~BUN[\\/]/.test(main)
}

type Mode = { compiled: boolean; execPath: string; platform: NodeJS.Platform }
const here = (): Mode => ({ compiled: isCompiledBinary(), execPath: process.execPath, platform: process.platform })

/**
 * Where anvil is looked for, in order. A compiled binary looks only where a user's machine has it:
 * ANVIL_BIN, next to the binary, PATH. Never node_modules: module resolution inside a compiled binary
 * starts from the working directory, so it would find the build folder's anvil while run from there
 * and behave differently once copied elsewhere. From source, the npm package comes before PATH.
 */
export function anvilCandidates(env: NodeJS.ProcessEnv = process.env, mode: Mode = here()): { path: string; from: string }[] {
  const exeName = mode.platform === 'win32' ? 'anvil.exe' : 'anvil'
  if (env.ANVIL_BIN) return [{ path: env.ANVIL_BIN, from: 'ANVIL_BIN' }]
  const out: { path: string; from: string }[] = []
  if (mode.compiled) out.push({ path: path.join(path.dirname(mode.execPath), exeName), from: 'beside the binary' })
  else {
    const pkg = anvilPackage(mode.platform)
    try {
      if (pkg) out.push({ path: path.join(path.dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`)), 'bin', exeName), from: pkg })
    } catch {}
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter)) if (dir) out.push({ path: path.join(dir, exeName), from: 'PATH' })
  return out
}

/** Find the anvil binary (see anvilCandidates for where); one clear error with a hint when there is none. */
export function findAnvil(env: NodeJS.ProcessEnv = process.env, mode: Mode = here()): string {
  const exeName = mode.platform === 'win32' ? 'anvil.exe' : 'anvil'
  const found = anvilCandidates(env, mode).find((c) => isFile(c.path))
  if (found) return found.path
  if (env.ANVIL_BIN) {
    throw new ChainError(`ANVIL_BIN points to ${env.ANVIL_BIN}, which is not a file`, { where: 'ANVIL_BIN', hint: 'unset ANVIL_BIN or point it at an anvil binary' })
  }
  const get = 'get it with Foundry (https://getfoundry.sh: `foundryup`)'
  throw new ChainError('anvil was not found', {
    hint: mode.compiled
      ? `put ${exeName} next to ${mode.execPath} or on PATH, or set ANVIL_BIN=/path/to/${exeName}; ${get}; or set chain.rpcUrl to use a running node`
      : `run \`npm install\` (it installs @foundry-rs/anvil), or put ${exeName} on PATH, or set ANVIL_BIN=/path/to/${exeName} (${get}); or set chain.rpcUrl to use a running node`,
  })
}

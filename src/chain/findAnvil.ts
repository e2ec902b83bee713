import { existsSync, statSync } from 'node:fs'
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

/** True when running as a `bun build --compile` binary (not `bun src/cli.ts`). */
function isCompiledBinary(): boolean {
  const name = path.basename(process.execPath).toLowerCase()
  return name !== 'bun' && name !== 'bun.exe' && name !== 'node' && name !== 'node.exe'
}

/**
 * Find the anvil binary: ANVIL_BIN, next to the running ml2sc binary, the npm package (only when running
 * from source: a compiled binary has no node_modules), then PATH.
 */
export function findAnvil(env: NodeJS.ProcessEnv = process.env): string {
  const exeName = process.platform === 'win32' ? 'anvil.exe' : 'anvil'
  const fromEnv = env.ANVIL_BIN
  if (fromEnv) {
    if (isFile(fromEnv)) return fromEnv
    throw new ChainError(`ANVIL_BIN points to ${fromEnv}, which is not a file`, { where: 'ANVIL_BIN', hint: 'unset ANVIL_BIN or point it at an anvil binary' })
  }
  if (isCompiledBinary()) {
    const beside = path.join(path.dirname(process.execPath), exeName)
    if (isFile(beside)) return beside
  }
  const pkg = anvilPackage()
  if (pkg) {
    try {
      const json = createRequire(import.meta.url).resolve(`${pkg}/package.json`)
      const bin = path.join(path.dirname(json), 'bin', exeName)
      if (existsSync(bin)) return bin
    } catch {}
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue
    const bin = path.join(dir, exeName)
    if (isFile(bin)) return bin
  }
  const get = 'get it with Foundry (https://getfoundry.sh: `foundryup`)'
  throw new ChainError('anvil was not found', {
    hint: isCompiledBinary()
      ? `put ${exeName} next to ${process.execPath} or on PATH, or set ANVIL_BIN=/path/to/${exeName}; ${get}; or set chain.rpcUrl to use a running node`
      : `run \`npm install\` (it installs @foundry-rs/anvil), or put ${exeName} on PATH, or set ANVIL_BIN=/path/to/${exeName} (${get}); or set chain.rpcUrl to use a running node`,
  })
}

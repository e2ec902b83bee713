import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { ChainError } from '../errors/base.ts'

/** Find the anvil binary: ANVIL_BIN, next to the running binary, the npm package, then PATH. */
export function findAnvil(): string {
  const env = process.env.ANVIL_BIN
  if (env) {
    if (existsSync(env)) return env
    throw new ChainError(`ANVIL_BIN points to ${env}, which does not exist`, { hint: 'unset ANVIL_BIN or point it at an anvil binary' })
  }
  const exe = process.execPath
  const beside = path.join(path.dirname(exe), process.platform === 'win32' ? 'anvil.exe' : 'anvil')
  if (!exe.endsWith('bun') && existsSync(beside)) return beside
  try {
    const pkg = createRequire(import.meta.url).resolve('@foundry-rs/anvil-linux-amd64/package.json')
    const bin = path.join(path.dirname(pkg), 'bin', 'anvil')
    if (existsSync(bin)) return bin
  } catch {}
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const bin = path.join(dir, 'anvil')
    if (dir && existsSync(bin)) return bin
  }
  throw new ChainError('anvil was not found', {
    hint: 'run `npm install` (it installs @foundry-rs/anvil), put anvil next to the ml2sc binary, set ANVIL_BIN, or set chain.rpcUrl',
  })
}

/** The platforms `npm run release` builds for, with the npm package that holds each one's anvil. */
import { readFileSync } from 'node:fs'
import path from 'node:path'

export const ROOT = path.resolve(import.meta.dir, '../..')

export type Target = {
  /** ml2sc's name for the platform, used in the archive name. */
  name: string
  /** `bun build --compile --target=…` */
  bunTarget: string
  /** Foundry's npm package with this platform's anvil binary (in `bin/`). */
  anvilPackage: string
  /** Executable suffix: `.exe` on Windows. */
  exe: '' | '.exe'
  archive: 'tar.gz' | 'zip'
}

export const TARGETS: readonly Target[] = [
  { name: 'linux-x64', bunTarget: 'bun-linux-x64', anvilPackage: '@foundry-rs/anvil-linux-amd64', exe: '', archive: 'tar.gz' },
  { name: 'linux-arm64', bunTarget: 'bun-linux-arm64', anvilPackage: '@foundry-rs/anvil-linux-arm64', exe: '', archive: 'tar.gz' },
  { name: 'darwin-x64', bunTarget: 'bun-darwin-x64', anvilPackage: '@foundry-rs/anvil-darwin-amd64', exe: '', archive: 'tar.gz' },
  { name: 'darwin-arm64', bunTarget: 'bun-darwin-arm64', anvilPackage: '@foundry-rs/anvil-darwin-arm64', exe: '', archive: 'tar.gz' },
  { name: 'windows-x64', bunTarget: 'bun-windows-x64', anvilPackage: '@foundry-rs/anvil-win32-amd64', exe: '.exe', archive: 'zip' },
]

/** The target this machine runs (`linux-x64` here). */
export const HOST = `${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`

/** The anvil release every archive ships: the version of @foundry-rs/anvil that package.json pins. */
export const ANVIL_VERSION: string = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).dependencies['@foundry-rs/anvil']

/** `ml2sc-<version>-<target>`: the archive's name without extension, and the one folder inside it. */
export const archiveBase = (version: string, t: Target) => `ml2sc-${version}-${t.name}`
export const archiveFile = (version: string, t: Target) => `${archiveBase(version, t)}.${t.archive}`

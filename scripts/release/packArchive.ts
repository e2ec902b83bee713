/**
 * One release archive: a folder `ml2sc-<version>-<target>/` holding the binary, anvil beside it, the
 * breast-cancer example (the one `npm start` runs) with its config, and a README; packed as .tar.gz
 * (.zip for Windows) with the system's `tar` / `zip`.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { archiveBase, archiveFile, ROOT, type Target } from './targets.ts'

/** The example the archives ship: the folder `npm start`'s config (ml2sc.yaml.example) reads its model from. */
export const EXAMPLE_DIR = path.join(ROOT, 'examples/breast-cancer')

/** Copy the example's files (not any `out/` left by a run) into `dest`; its ml2sc.yaml names them relative to itself. */
export function copyExample(dest: string): string[] {
  mkdirSync(dest, { recursive: true })
  const files = readdirSync(EXAMPLE_DIR).filter((f) => statSync(path.join(EXAMPLE_DIR, f)).isFile())
  for (const f of files) copyFileSync(path.join(EXAMPLE_DIR, f), path.join(dest, f))
  return files
}

/** The folder that becomes the archive's content: `<stageRoot>/ml2sc-<version>-<target>/`. */
export function stageFolder(stageRoot: string, version: string, t: Target): string {
  return path.join(stageRoot, archiveBase(version, t))
}

/** Put anvil, the example and the README beside the already built `ml2sc` binary in `dir`. */
export function fillStage(dir: string, t: Target, anvil: string, readme: string): void {
  const bin = path.join(dir, `ml2sc${t.exe}`)
  if (!existsSync(bin)) throw new Error(`${bin} was not built`)
  copyFileSync(anvil, path.join(dir, `anvil${t.exe}`))
  for (const f of [`ml2sc${t.exe}`, `anvil${t.exe}`]) chmodSync(path.join(dir, f), 0o755)
  copyExample(path.join(dir, 'example'))
  writeFileSync(path.join(dir, 'README.md'), readme)
}

async function exec(cmd: string[], cwd: string): Promise<string | undefined> {
  try {
    const proc = Bun.spawn(cmd, { cwd, stdout: 'pipe', stderr: 'pipe' })
    const err = await new Response(proc.stderr).text()
    return (await proc.exited) === 0 ? undefined : err.trim() || `${cmd[0]} failed`
  } catch (e) {
    return `${cmd[0]} is needed to write this archive (${(e as Error).message})`
  }
}

/**
 * Pack the staged folder into `<outDir>/ml2sc-<version>-<target>.tar.gz|.zip`; returns the archive's path.
 * `level` (1-9): the compression level, when not the tools' default (6); the release uses the default, the
 * archive test 1 (the same format, read by the same `tar -xzf`, in about a third of the CPU).
 */
export async function packArchive(stageRoot: string, outDir: string, version: string, t: Target, level?: number): Promise<string> {
  const base = archiveBase(version, t)
  const out = path.join(outDir, archiveFile(version, t))
  const flag = level === undefined ? [] : [`-${level}`]
  const failed =
    t.archive === 'zip'
      ? await exec(['zip', '-q', ...flag, '-r', '-X', out, base], stageRoot)
      : await exec(['tar', ...(level === undefined ? ['-czf', out] : ['-I', `gzip ${flag[0]}`, '-cf', out]), base], stageRoot)
  if (failed) throw new Error(`packing ${path.basename(out)} failed: ${failed.split('\n')[0]}`)
  return out
}

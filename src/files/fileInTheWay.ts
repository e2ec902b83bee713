import { statSync } from 'node:fs'
import path from 'node:path'

/**
 * The path of a file (not a folder) that stands where `dir` or one of its parents must be a folder, or
 * undefined when `dir` can be made (or already is a folder). `mkdir -p` would fail there with EEXIST or
 * ENOTDIR; callers name the file in one line before writing anything.
 */
export function fileInTheWay(dir: string): string | undefined {
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    const info = statOrUndefined(at)
    if (info) return info.isDirectory() ? undefined : at
    if (path.dirname(at) === at) return undefined
  }
}

/** undefined when nothing is there, including below a file (ENOTDIR): the loop then looks at the parent. */
function statOrUndefined(at: string) {
  try {
    return statSync(at)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    throw e
  }
}

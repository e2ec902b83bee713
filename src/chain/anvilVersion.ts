import { spawnSync } from 'node:child_process'
import { findAnvil } from './findAnvil.ts'

const cached = new Map<string, string>()
/** e.g. "anvil 1.7.1 (4072e48)" — recorded in reports for reproducibility. Of `binary`, or the anvil findAnvil picks. */
export function anvilVersion(binary: string = findAnvil()): string {
  const hit = cached.get(binary)
  if (hit) return hit
  const out = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout ?? ''
  const v = /Version:\s*(\S+)/.exec(out)?.[1] ?? /anvil\s+(\S+)/.exec(out)?.[1] ?? 'unknown'
  const sha = /Commit SHA:\s*(\w{7})/.exec(out)?.[1]
  const line = `anvil ${v}${sha ? ` (${sha})` : ''}`
  cached.set(binary, line)
  return line
}

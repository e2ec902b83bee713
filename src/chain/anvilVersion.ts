import { spawnSync } from 'node:child_process'
import { findAnvil } from './findAnvil.ts'

let cached: string | undefined
/** e.g. "anvil 1.7.1 (4072e48)" — recorded in reports for reproducibility. */
export function anvilVersion(): string {
  if (cached) return cached
  const out = spawnSync(findAnvil(), ['--version'], { encoding: 'utf8' }).stdout ?? ''
  const v = /Version:\s*(\S+)/.exec(out)?.[1] ?? /anvil\s+(\S+)/.exec(out)?.[1] ?? 'unknown'
  const sha = /Commit SHA:\s*(\w{7})/.exec(out)?.[1]
  cached = `anvil ${v}${sha ? ` (${sha})` : ''}`
  return cached
}

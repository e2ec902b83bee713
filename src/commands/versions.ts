import { anvilVersion } from '../chain/anvilVersion.ts'
import { findAnvil } from '../chain/findAnvil.ts'
import { solcVersion } from '../compile/compileSolidity.ts'
import { Ml2scError } from '../errors/base.ts'
import { ML2SC_VERSION } from '../version.ts'

/**
 * `ml2sc --version`: the ml2sc, solc and anvil versions, one per line. The anvil line is the one a run
 * would start (with its path), or "anvil not found" and why; either way the exit code is 0.
 */
export function versionLines(env: NodeJS.ProcessEnv = process.env): string[] {
  let anvil: string
  try {
    const bin = findAnvil(env)
    anvil = `${anvilVersion(bin)} ${bin}`
  } catch (e) {
    if (!(e instanceof Ml2scError)) throw e
    anvil = e.where ? `anvil not found: ${e.oneLine()}` : `anvil not found (hint: ${e.hint})`
  }
  return [`ml2sc ${ML2SC_VERSION}`, `solc ${solcVersion()}`, anvil]
}

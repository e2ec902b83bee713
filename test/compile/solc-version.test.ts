// `ml2sc --version` prints solc's full version without loading solc-js (KNOWN_SOLC_VERSION): it must be
// what the installed solc-js says of itself (with another solc-js package installed, solcVersion() asks it instead).
// Under the test runner, the installed solc-js is asked through one of the run's solc servers (the same package,
// already loaded: scripts/solc-server.ts answers every request with its `solc.version()`), so this file does not
// load solc-js's 9 MB of WebAssembly itself; run alone, it loads solc-js in this process.
import { expect, test } from 'bun:test'
import { KNOWN_SOLC_VERSION, solcVersion } from '../../src/compile/compileSolidity.ts'
import { compileOnServer } from '../../src/compile/solcServer.ts'

/** What the installed solc-js package says its version is: a solc server's answer, else solc-js loaded here. */
function installedSolcVersion(): string {
  // an input with no sources: solc answers at once (with an error), and its version heads every answer
  const served = compileOnServer(JSON.stringify({ language: 'Solidity', sources: {} }))
  if (served) return served.version
  return (require('solc') as { version(): string }).version()
}

test('the known solc version is the installed solc-js own, and solcVersion() returns it', () => {
  const installed = installedSolcVersion()
  expect(KNOWN_SOLC_VERSION).toBe(installed)
  expect(solcVersion()).toBe(installed)
  expect(solcVersion()).toMatch(/^\d+\.\d+\.\d+\+commit\.[0-9a-f]{8}/)
}, 300_000) // without a server, loads solc-js: seconds, more on a busy machine

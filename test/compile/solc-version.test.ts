// `ml2sc --version` prints solc's full version without loading solc-js (KNOWN_SOLC_VERSION): it must be
// what the installed solc-js says of itself (with another solc-js package installed, solcVersion() asks it instead).
import { expect, test } from 'bun:test'
import { KNOWN_SOLC_VERSION, solcVersion } from '../../src/compile/compileSolidity.ts'

test('the known solc version is the installed solc-js own, and solcVersion() returns it', () => {
  const solc = require('solc') as { version(): string }
  expect(KNOWN_SOLC_VERSION).toBe(solc.version())
  expect(solcVersion()).toBe(solc.version())
  expect(solcVersion()).toMatch(/^\d+\.\d+\.\d+\+commit\.[0-9a-f]{8}/)
}, 300_000) // loads solc-js: seconds, more on a busy machine

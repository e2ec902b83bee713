// The committed build of the admin library (src/codegen/admin/adminLibrary.build.json, which spares `generate`,
// `gas` and `verify` loading solc) is exactly what solc-js makes of the library's current source; a build
// of another source or EVM is never used.
import { expect, test } from 'bun:test'
import { ADMIN_LIBRARY_EVM, adminLibrary, adminLibrarySolidity, compileAdminLibrary } from '../../src/codegen/admin/adminLibrary.ts'
import { committedAdminBuild, sourceSha256, type AdminBuildFile } from '../../src/codegen/admin/adminLibraryBuild.ts'
import build from '../../src/codegen/admin/adminLibrary.build.json' with { type: 'json' }

test('the committed build is solc-js output of the current source (else: bun scripts/build-admin-library.ts)', () => {
  const source = adminLibrarySolidity()
  const fresh = compileAdminLibrary(source)
  const committed = build as AdminBuildFile
  expect(committed.sourceSha256).toBe(sourceSha256(source))
  expect(committed.solcVersion).toBe(fresh.solcVersion)
  expect({ bytecode: committed.bytecode, deployedBytecode: committed.deployedBytecode, immutables: committed.immutables }).toEqual({ bytecode: fresh.bytecode, deployedBytecode: fresh.deployedBytecode, immutables: fresh.immutables })
  expect(adminLibrary().initcode).toBe(fresh.bytecode)
}, 900_000) // loading solc-js and compiling: seconds, more on a busy machine

test('a build of another source or EVM is not used', () => {
  const source = adminLibrarySolidity()
  const committed = build as AdminBuildFile
  expect(committedAdminBuild(source, ADMIN_LIBRARY_EVM)).toBeDefined()
  expect(committedAdminBuild(source + ' ', ADMIN_LIBRARY_EVM)).toBeUndefined()
  expect(committedAdminBuild(source, 'prague')).toBeUndefined()
  expect(committedAdminBuild(source, ADMIN_LIBRARY_EVM, { ...committed, sourceSha256: '00'.repeat(32) })).toBeUndefined()
})

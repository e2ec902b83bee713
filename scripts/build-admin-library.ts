// Writes src/codegen/admin/adminLibrary.build.json: the admin library compiled by solc-js, so that commands that
// only need its address do not load solc. Run after changing the library's source (adminLibrarySolidity):
//   bun scripts/build-admin-library.ts
// test/codegen/admin-library-build.test.ts fails while the committed build is not the source's.
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { ADMIN_LIBRARY_EVM, adminLibrarySolidity, compileAdminLibrary } from '../src/codegen/admin/adminLibrary.ts'
import { sourceSha256, type AdminBuildFile } from '../src/codegen/admin/adminLibraryBuild.ts'

const source = adminLibrarySolidity()
const c = compileAdminLibrary(source)
const out: AdminBuildFile = { sourceSha256: sourceSha256(source), evmVersion: ADMIN_LIBRARY_EVM, solcVersion: c.solcVersion, bytecode: c.bytecode, deployedBytecode: c.deployedBytecode, immutables: c.immutables }
const file = path.join(import.meta.dir, '../src/codegen/admin/adminLibrary.build.json')
writeFileSync(file, JSON.stringify(out, null, 2) + '\n')
console.log(`wrote ${path.relative(process.cwd(), file)} (${(c.bytecode.length - 2) / 2} bytes of initcode, solc ${c.solcVersion})`)

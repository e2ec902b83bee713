import { createHash } from 'node:crypto'
import type { Hex } from 'viem'
import build from './adminLibrary.build.json' with { type: 'json' }

/** The admin library as solc-js compiles it: what adminLibrary needs from a compile. */
export type AdminBuild = { bytecode: Hex; deployedBytecode: Hex; immutables: { start: number; length: number }[] }

/** What scripts/build-admin-library.ts writes to adminLibrary.build.json. */
export type AdminBuildFile = AdminBuild & { sourceSha256: string; evmVersion: string; solcVersion: string }

export const sourceSha256 = (source: string) => createHash('sha256').update(source).digest('hex')

/**
 * The committed build of the admin library (src/codegen/admin/adminLibrary.build.json) when it was compiled from
 * exactly this source for this EVM; undefined otherwise (the caller compiles). It spares every command that
 * only needs the library's address (generate, gas, verify) loading and running solc-js, about 2 s of CPU.
 * test/codegen/admin-library-build.test.ts recompiles the source and demands the same bytes.
 */
export function committedAdminBuild(source: string, evmVersion: string, file: AdminBuildFile = build as AdminBuildFile): AdminBuild | undefined {
  if (file.sourceSha256 !== sourceSha256(source) || file.evmVersion !== evmVersion) return undefined
  return { bytecode: file.bytecode, deployedBytecode: file.deployedBytecode, immutables: file.immutables }
}

import { readFile } from 'node:fs/promises'
import { adminLibrary, adminLibraryInput } from '../../codegen/admin/adminLibrary.ts'
import { compileSolidity, solcStandardInput } from '../../compile/compileSolidity.ts'
import type { Config } from '../../config/types.ts'
import { Ml2scError } from '../../errors/base.ts'
import type { Logger } from '../../ui/logger.ts'
import {
  artifactFileOf,
  artifactPath,
  outLabel,
  readPlanArtifact,
  runFirst,
  sha256Text,
  stamp,
  writeArtifact,
  type CompiledArtifact,
} from '../artifacts.ts'

export type CompileResult = { artifact: CompiledArtifact; file: string }

/** The solc standard-JSON inputs written beside the artifact: the model's, and the shared admin library's. */
export const standardJsonFileOf = (contractName: string) => `${contractName}.input.json`
export const ADMIN_LIBRARY_INPUT = 'Ml2scAdmin.input.json'

/**
 * Stage 2: the `.sol` that `generate` wrote → `<Contract>.json` (abi, bytecode, runtime bytecode, solc and
 * EVM versions, stamped). solc-js runs in this process (legacy pipeline, optimizer on): no download.
 * Beside it, `<Contract>.input.json` (and `Ml2scAdmin.input.json`): the solc standard-JSON input, from
 * which anyone rebuilds the exact bytecode with the compiler version the artifact records (`solcVersion`),
 * or verifies the source on a block explorer.
 */
export async function compileStage(config: Config, log: Logger): Promise<CompileResult> {
  const { artifact: plan } = await readPlanArtifact(config)
  const solFile = artifactPath(config, plan.source.file)
  let source: string
  try {
    source = await readFile(solFile, 'utf8')
  } catch {
    throw new Ml2scError(`no ${plan.source.file} in ${outLabel(config)}: ${runFirst(config, 'generate')} first`)
  }
  if (sha256Text(source) !== plan.source.sha256)
    throw new Ml2scError(`${outLabel(config)}${plan.source.file} is not the file plan.json describes (edited since \`generate\`?): ${runFirst(config, 'generate')} again`)
  const compiled = await log.task(`compile ${plan.source.file}`, () => compileSolidity(source, plan.contractName, { hardfork: config.chain.hardfork }))
  log.detail(`${compiled.solcVersion}, evm ${compiled.evmVersion}, ${compiled.runtimeBytes} bytes of runtime code`)
  for (const w of compiled.warnings) log.detail(`solc warning: ${w}`)
  const input = solcStandardInput(source, `${plan.contractName}.sol`, compiled.evmVersion)
  await writeArtifact(config, standardJsonFileOf(plan.contractName), input)
  const lib = adminLibrary()
  await writeArtifact(config, ADMIN_LIBRARY_INPUT, adminLibraryInput())
  const artifact: CompiledArtifact = {
    kind: 'ml2sc/artifact',
    ...stamp(config),
    ...compiled,
    source: { file: plan.source.file, sha256: plan.source.sha256 },
    standardJson: { file: standardJsonFileOf(plan.contractName), contract: `${plan.contractName}.sol:${plan.contractName}` },
    adminLibrary: { address: lib.address, standardJson: { file: ADMIN_LIBRARY_INPUT, contract: 'Ml2scAdmin.sol:Ml2scAdmin' } },
  }
  const file = await writeArtifact(config, artifactFileOf(plan.contractName), artifact)
  return { artifact, file }
}

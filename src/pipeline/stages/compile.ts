import { readFile } from 'node:fs/promises'
import { compileSolidity } from '../../compile/compileSolidity.ts'
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

/**
 * Stage 2: the `.sol` that `generate` wrote → `<Contract>.json` (abi, bytecode, runtime bytecode, solc and
 * EVM versions, stamped). solc-js runs in this process (legacy pipeline, optimizer on): no download.
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
  const artifact: CompiledArtifact = { kind: 'ml2sc/artifact', ...stamp(config), ...compiled, source: { file: plan.source.file, sha256: plan.source.sha256 } }
  const file = await writeArtifact(config, artifactFileOf(plan.contractName), artifact)
  return { artifact, file }
}

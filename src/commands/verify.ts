import path from 'node:path'
import type { Hex } from 'viem'
import { readDeployment } from '../chain/deploymentFile.ts'
import { readModelState } from '../chain/modelState.ts'
import { loadConfig } from '../config/loadConfig.ts'
import type { Logger } from '../ui/logger.ts'
import type { Ml2scCommand } from './context.ts'
import { localModel, openDeployment } from './update.ts'

export type VerifyResult = {
  verified: boolean
  reason?: string
  chainId: number
  address: Hex
  version: number
  ready: boolean
  local: Hex
  onchain: Hex
  exitCode?: number
}

/**
 * Compare the local model's commitment (keccak256 of its canonical quantised weight encoding) with the
 * contract's `commitment()`, which the contract recomputes from its data contracts. Verified only when
 * they are equal and the contract is ready (no upload half done).
 */
export async function verifyCommand(args: { config: string; out?: string }, log: Logger): Promise<VerifyResult> {
  const config = await loadConfig(args.config, { output: args.out })
  const dep = await readDeployment(config.output)
  const { commitment: local, sizes } = await localModel(config)
  const s = await openDeployment(config, dep, log)
  try {
    const st = await readModelState(s, dep.address, dep.abi, { chunks: sizes.length })
    const file = path.relative(process.cwd(), config.model.path) || config.model.path
    const base = { chainId: s.chainId, address: dep.address, version: st.version, ready: st.ready, local, onchain: st.commitment }
    let reason: string | undefined
    let hint: string | undefined
    if (!st.ready) {
      reason = `the contract at ${dep.address} is in the middle of an upload (${st.chunksWritten} chunk(s) written): it refuses inference until the upload completes`
      hint = `finish it with \`ml2sc update ${path.relative(process.cwd(), config.file)}\``
    } else if (st.commitment !== local) {
      reason = `the chain's model differs from ${file}: on chain ${st.commitment} (version ${st.version}), local ${local}`
      hint = `upload the local weights with \`ml2sc update ${path.relative(process.cwd(), config.file)}\`, or restore the model file`
    }
    if (reason) {
      process.stderr.write(`ml2sc: verify failed: ${reason} (hint: ${hint})\n`)
      return { verified: false, reason, ...base, exitCode: 1 }
    }
    log.info(`verified: the contract at ${dep.address} on chain ${s.chainId} holds ${file} (version ${st.version}, commitment ${local})`)
    return { verified: true, ...base }
  } finally {
    await s.close()
  }
}

export const verifyModule: Ml2scCommand = {
  command: 'verify <config>',
  describe: "Check that the deployed contract holds the config's model: its on-chain commitment equals the local one (exit 0), or not (exit 1)",
  builder: (y) =>
    y
      .positional('config', { type: 'string', demandOption: true, describe: 'ml2sc.yaml (or its folder)' })
      .example('$0 verify ml2sc.yaml', 'the contract in out/deployment.json against the model file')
      .example('$0 verify ml2sc.yaml --json', '{"verified": true, "onchain": "0x…", "local": "0x…", …}'),
  handler: async (a, log) => await verifyCommand({ config: a.config, out: a.out }, log),
}

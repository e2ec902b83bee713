import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import type { Hex } from 'viem'
import { runtimeCodeHash } from '../compile/runtimeCodeHash.ts'
import { connectChain, redactUrl, type ChainSession } from '../chain/connectChain.ts'
import { describeNode, hardforkDifference } from '../chain/nodeProfile.ts'
import type { Config } from '../config/types.ts'
import { ChainError, Ml2scError } from '../errors/base.ts'
import type { Logger } from '../ui/logger.ts'
import { ANVIL_STATE_FILE, artifactPath, configLabel, outLabel, runFirst, type DeploymentArtifact } from './artifacts.ts'

/**
 * Open the chain for a stage. An RPC endpoint (`chain.rpcUrl`) is simply connected. The embedded anvil
 * keeps its chain in `<out>/anvil-state.json` (anvil `--state`: loaded at start, dumped on exit), so that
 * `deploy`, `upload` and `evaluate` run as separate commands see the same chain:
 * - `fresh` (deploy, run): a new chain; any previous state file is removed first;
 * - `resume` (upload, evaluate, and the commands that use a deployment): the chain `deploy` left.
 * A forked anvil (`chain.fork`) has no resumable state: it is only for `ml2sc run`.
 * `readOnly`: no signing key needed, nothing can be sent (see connectChain).
 */
export async function openChain(config: Config, log: Logger, mode: 'fresh' | 'resume', opts: { readOnly?: boolean } = {}): Promise<ChainSession> {
  if (config.chain.rpcUrl) {
    log.step(`connect ${redactUrl(config.chain.rpcUrl)}`)
    const s = await connectChain({ ...config.chain, readOnly: opts.readOnly })
    // what the node is, before anything is spent (connectChain refused a node that cannot run the code)
    log.detail(`chain ${s.chainId}: ${describeNode(s.node)}${s.free ? ' (a local development chain: nothing real is spent)' : ''}`)
    const differs = hardforkDifference(s.node.evm, config.chain.hardfork)
    if (differs) log.info(`ml2sc: warning: ${differs}`)
    return s
  }
  if (config.chain.fork) {
    if (mode === 'resume')
      throw new Ml2scError('chain.fork: a forked embedded anvil does not last from one command to the next', {
        hint: `use \`ml2sc run ${configLabel(config)}\`, or run your own node and set chain.rpcUrl`,
      })
    log.step(`start anvil (fork of ${redactUrl(config.chain.fork)})`)
    return await connectChain(config.chain)
  }
  const stateFile = artifactPath(config, ANVIL_STATE_FILE)
  if (mode === 'fresh') {
    await rm(stateFile, { force: true })
    log.step(`start anvil (chain kept in ${outLabel(config)}${ANVIL_STATE_FILE})`)
  } else {
    if (!existsSync(stateFile))
      throw new Ml2scError(`no ${ANVIL_STATE_FILE} in ${outLabel(config)}: the embedded chain is gone; ${runFirst(config, 'deploy')} first`)
    log.step(`resume anvil from ${outLabel(config)}${ANVIL_STATE_FILE}`)
  }
  return await connectChain({ ...config.chain, stateFile, readOnly: opts.readOnly })
}

/**
 * Check that a deployment is on the session's chain: the same chain id, and at its address the runtime
 * code `deploy` put there. Anything else means the chain changed under us.
 */
export async function checkDeployment(s: ChainSession, config: Config, dep: DeploymentArtifact): Promise<void> {
  if (dep.chainId !== s.chainId)
    throw new ChainError(`${outLabel(config)}deployment.json is for chain ${dep.chainId}, but the chain is ${s.chainId}: ${runFirst(config, 'deploy')} again`)
  let code: Hex | undefined
  try {
    code = await s.publicClient.getCode({ address: dep.address })
  } catch (e) {
    throw new ChainError(`cannot read the code at ${dep.address}`, { cause: e })
  }
  if (!code || code === '0x')
    throw new ChainError(`no contract at ${dep.address} on chain ${s.chainId} (the chain was reset?): ${runFirst(config, 'deploy')} again`)
  if (runtimeCodeHash(code, dep.immutables) !== dep.codeHash)
    throw new ChainError(`the code at ${dep.address} is not the contract in deployment.json: ${runFirst(config, 'deploy')} again`)
}

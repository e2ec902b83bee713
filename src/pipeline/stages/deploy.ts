import type { Hex } from 'viem'
import { anvilVersion } from '../../chain/anvilVersion.ts'
import type { ChainSession } from '../../chain/connectChain.ts'
import { deployModel } from '../../chain/deployModel.ts'
import { runtimeCodeHash } from '../../compile/runtimeCodeHash.ts'
import { isForwardingModel } from '../../codegen/generateSolidity.ts'
import { estimateAdminLibraryGas, estimateDeployGas, guardSpend } from '../../chain/spendGuard.ts'
import type { Config } from '../../config/types.ts'
import type { Logger } from '../../ui/logger.ts'
import {
  ANVIL_STATE_FILE,
  DEPLOYMENT_FILE,
  readCompiledArtifact,
  readPlanArtifact,
  stamp,
  writeArtifact,
  type DeploymentArtifact,
} from '../artifacts.ts'
import { openChain } from '../openChain.ts'

export type DeployResult = { deployment: DeploymentArtifact; file: string }

/**
 * Stage 3: the compiled artifact → a contract on chain → `deployment.json` (chain id, address, abi, the
 * commitment the upload will establish, the deploy transaction and its gas). Without `session`, it opens
 * the chain itself: on the embedded anvil that is a fresh chain, kept in `<out>/anvil-state.json`.
 * Spending: a stage that opens a non-local chain itself prints its estimated cost and needs `--yes`; a
 * caller that passes `session` (like `run`) guards the whole plan's spending before calling it.
 */
export async function deployStage(config: Config, log: Logger, opts: { session?: ChainSession } = {}): Promise<DeployResult> {
  const { artifact: plan, plan: fixed } = await readPlanArtifact(config)
  const compiled = await readCompiledArtifact(config, plan)
  const s = opts.session ?? (await openChain(config, log, 'fresh'))
  try {
    const runtimeBytes = compiled.runtimeBytes
    // real money: print the estimate, refuse without --yes (nothing is spent on a local chain)
    if (!s.local && !opts.session) await guardSpend(s, log, [...(await estimateAdminLibraryGas(s)), await estimateDeployGas(s, compiled.bytecode)])
    const { address, tx, admin } = await log.task(`deploy ${compiled.contractName} (${runtimeBytes} bytes)`, () => deployModel(s, compiled.bytecode, compiled.abi))
    if (admin?.proxyFund) log.detail(`chain ${s.chainId} had no CREATE2 deployment proxy: deployed by its presigned transaction after funding its one-time signer (${admin.proxyFund.hash})`)
    if (admin?.tx) log.detail(`ml2sc's shared admin library was not on chain ${s.chainId}: deployed once at ${admin.address}, ${admin.tx.gasUsed.toLocaleString('en-US')} gas`)
    log.detail(`at ${address} on chain ${s.chainId}, ${tx.gasUsed.toLocaleString('en-US')} gas`)
    // a contract that carries its initial weights in its own code is ready at once: nothing to upload
    const read = async <T>(functionName: string) => (await s.publicClient.readContract({ address, abi: compiled.abi, functionName, args: [] })) as T
    const embedded = (await read<boolean>('ready')) && (await read<Hex>('commitment')) === plan.weights.commitment
    const chunks = plan.weights.chunks.length
    const deployment: DeploymentArtifact = {
      kind: 'ml2sc/deployment',
      ...stamp(config),
      chainId: s.chainId,
      address,
      contractName: compiled.contractName,
      abi: compiled.abi,
      commitment: plan.weights.commitment,
      layout: plan.layout,
      forwarding: isForwardingModel(fixed, { layout: plan.layout, chunkSize: plan.weights.chunkSize }),
      codeHash: runtimeCodeHash(compiled.deployedBytecode, compiled.immutables),
      immutables: compiled.immutables,
      chain: {
        local: s.local,
        free: s.free,
        hardfork: config.chain.hardfork,
        anvil: s.local ? anvilVersion() : null,
        state: s.local && !config.chain.fork ? ANVIL_STATE_FILE : null,
        node: s.node.client,
        push0: s.node.push0,
        blockGasLimit: s.node.blockGasLimit,
      },
      upload: { chunks, written: embedded ? chunks : 0, done: embedded },
      ...(admin ? { adminLibrary: { address: admin.address, codeHash: admin.codeHash } } : {}),
      transactions: { deploy: tx.hash, upload: [], ...(admin?.tx ? { adminLibrary: admin.tx.hash } : {}), ...(admin?.proxyFund ? { create2ProxyFund: admin.proxyFund.hash } : {}) },
      gas: { deploy: tx.gasUsed, upload: [], ...(admin?.tx ? { adminLibrary: admin.tx.gasUsed } : {}), ...(admin?.proxyFund ? { create2ProxyFund: admin.proxyFund.gasUsed } : {}) },
    }
    const file = await writeArtifact(config, DEPLOYMENT_FILE, deployment)
    return { deployment, file }
  } finally {
    if (!opts.session) await s.close()
  }
}

/**
 * ML2SC_ANVIL_POOL=1 (the test runner sets it; nothing else should): an embedded anvil that a session is done
 * with is reset to its genesis (anvil_reset: block 0, every account's nonce, balance and code as at start,
 * the pending pool empty) and kept, so that the next session of this process with the same settings takes
 * it instead of starting another binary (~0.17 s of CPU each; a test run starts over two hundred). A node is
 * kept only when, after the reset, it answers that it is at block 0 with the settings' gas limit, nothing
 * pending and automine on (a test may have switched it off); else it is stopped, as without the pool.
 * Anvils with a state file (dumped when stopped) or a fork are never pooled.
 */

/** Whether this process keeps reset anvils for reuse. */
export const anvilPoolOn = (): boolean => process.env.ML2SC_ANVIL_POOL === '1'

/** The idle, reset nodes by their settings' key: each an RPC URL and how to really stop it. */
const idle = new Map<string, { rpcUrl: string; port: number; kill: () => Promise<void> }[]>()

async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }), signal: AbortSignal.timeout(30_000) })
  const body = (await res.json()) as { result?: unknown; error?: { message: string } }
  if (body.error) throw new Error(body.error.message)
  return body.result
}

/** At genesis, with the gas limit it was started with, nothing pending, automine on. */
async function atGenesis(url: string, gasLimit: number): Promise<boolean> {
  try {
    const block = (await rpc(url, 'eth_getBlockByNumber', ['latest', false])) as { number: string; gasLimit: string }
    const pool = (await rpc(url, 'txpool_status')) as { pending: string; queued: string }
    const automine = await rpc(url, 'anvil_getAutomine')
    return BigInt(block.number) === 0n && BigInt(block.gasLimit) === BigInt(gasLimit) && BigInt(pool.pending) === 0n && BigInt(pool.queued) === 0n && automine === true
  } catch {
    return false
  }
}

/** An idle node for these settings, checked alive and at genesis; undefined when there is none. */
export async function takePooledAnvil(key: string, gasLimit: number): Promise<{ rpcUrl: string; port: number; kill: () => Promise<void> } | undefined> {
  const list = idle.get(key)
  for (let n = list?.pop(); n; n = list?.pop()) {
    if (await atGenesis(n.rpcUrl, gasLimit)) return n
    await n.kill()
  }
  return undefined
}

/** Reset a node a session is done with and keep it, or stop it when it does not come back to genesis. */
export async function releaseToPool(key: string, gasLimit: number, node: { rpcUrl: string; port: number; kill: () => Promise<void> }): Promise<void> {
  try {
    await rpc(node.rpcUrl, 'anvil_reset')
    await rpc(node.rpcUrl, 'evm_setAutomine', [true])
  } catch {
    return await node.kill()
  }
  if (!(await atGenesis(node.rpcUrl, gasLimit))) return await node.kill()
  idle.set(key, [...(idle.get(key) ?? []), node])
}

/** Stop every idle node (the process is ending). */
export function killPooledAnvils(): void {
  for (const list of idle.values()) for (const n of list.splice(0)) void n.kill()
}

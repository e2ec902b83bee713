import { createServer } from 'node:net'
import { Instance } from 'prool'
import { ChainError } from '../errors/base.ts'
import { findAnvil } from './findAnvil.ts'

export type AnvilHandle = { rpcUrl: string; port: number; stop: () => Promise<void> }

/** A free TCP port on loopback (the OS picks it; we release it for anvil). */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolve(port))
    })
  })
}

const running = new Set<AnvilHandle>()
let hooked = false
/** Stop every anvil we started, whatever way the process ends. */
function hookExit() {
  if (hooked) return
  hooked = true
  const stopAll = () => {
    for (const h of running) void h.stop()
  }
  process.once('exit', stopAll)
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      stopAll()
      process.exit(sig === 'SIGINT' ? 130 : 143)
    })
}

/**
 * Start anvil on a free loopback port with a pinned hardfork and the EIP-7825 per-transaction gas cap
 * enforced (anvil does not enforce it by default, mainnet does).
 */
export async function startAnvil(opts: { hardfork: string; blockGasLimit: number; fork?: string; chainId?: number; stateFile?: string }): Promise<AnvilHandle> {
  const binary = findAnvil()
  const port = await freePort()
  const args: Record<string, unknown> = {
    binary,
    host: '127.0.0.1',
    port,
    hardfork: opts.hardfork,
    gasLimit: opts.blockGasLimit,
    enableTxGasLimit: true,
    forkUrl: opts.fork,
    chainId: opts.chainId,
    // `--state FILE`: load the chain from FILE if it exists, dump it there on exit (SIGTERM); lets the
    // separate stage commands (deploy, upload, evaluate…) resume the same embedded chain.
    state: opts.stateFile,
  }
  const instance = Instance.anvil(args as Parameters<typeof Instance.anvil>[0])
  try {
    await instance.start()
  } catch (e) {
    throw new ChainError(`anvil failed to start: ${String((e as Error)?.message ?? e).split('\n')[0]}`, { hint: `binary: ${binary}`, cause: e })
  }
  const handle: AnvilHandle = {
    rpcUrl: `http://127.0.0.1:${port}`,
    port,
    stop: async () => {
      running.delete(handle)
      // SIGTERM it ourselves and wait: anvil dumps its --state on SIGTERM, and when execa's own kill()
      // sends the signal it arms a 5 s force-kill timer that keeps the process alive after we are done.
      const child = (instance as unknown as { _internal?: { process?: { pid?: number; exitCode: number | null; signalCode: string | null; once: (e: 'exit', f: () => void) => void } } })._internal?.process
      if (child?.pid && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
        try {
          process.kill(child.pid, 'SIGTERM')
          await exited
        } catch {}
      }
      await instance.stop().catch(() => {})
    },
  }
  running.add(handle)
  hookExit()
  return handle
}

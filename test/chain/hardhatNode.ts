// Start and stop Hardhat's node (Hardhat 2.x, EDR) for the chain tests: `hardhat node` on a free loopback
// port, run by Node from the repo's node_modules, with the config beside this file. Its funded development
// keys are read from what it prints at startup.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import type { Hex } from 'viem'
import { freePort } from '../../src/chain/startAnvil.ts'
import { nodeOf, type RemoteAnvil } from './helpers.ts'

const ROOT = path.resolve(import.meta.dir, '../..')
const CLI = path.join(ROOT, 'node_modules/hardhat/internal/cli/cli.js')
const CONFIG_DIR = path.join(import.meta.dir, 'hardhat')

/** Why Hardhat's node cannot run here (no package, no `node`), or undefined when it can. */
export function hardhatMissing(): string | undefined {
  if (!existsSync(CLI)) return `hardhat is not installed (${path.relative(ROOT, CLI)}): run npm install`
  if (spawnSync('node', ['--version']).status !== 0) return 'no `node` on PATH to run Hardhat with'
  return undefined
}

export async function startHardhatNode(opts: { chainId?: number } = {}): Promise<RemoteAnvil> {
  const port = await freePort()
  const chainId = opts.chainId ?? 31_337
  const proc = spawn('node', [CLI, '--config', 'hardhat.config.cjs', 'node', '--hostname', '127.0.0.1', '--port', String(port)], {
    cwd: CONFIG_DIR,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true', ML2SC_HARDHAT_CHAIN_ID: String(chainId) },
  })
  let out = ''
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hardhat node did not start: ${out}`)), 300_000) // generous for a busy machine
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      if (/Started HTTP and WebSocket JSON-RPC server/.test(out) && /Account #6:/.test(out)) {
        clearTimeout(timer)
        resolve()
      }
    })
    proc.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`hardhat node exited with ${code}: ${out}`))
    })
  })
  proc.stdout!.resume()
  const accounts = [...out.matchAll(/Account #\d+: (0x[0-9a-fA-F]{40})/g)].map((m) => m[1] as Hex)
  const keys = [...out.matchAll(/Private Key: (0x[0-9a-fA-F]{64})/g)].map((m) => m[1] as Hex)
  return nodeOf(proc, port, chainId, keys, accounts)
}

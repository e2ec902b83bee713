// A second anvil standing in for a remote node, plus small project builders for the chain tests.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createPublicClient, http, type Hex } from 'viem'
import { findAnvil } from '../../src/chain/findAnvil.ts'
import { freePort } from '../../src/chain/startAnvil.ts'
import { rng } from '../helpers/rng.ts'

export { freePort, rng }

export type RemoteAnvil = { url: string; port: number; chainId: number; keys: Hex[]; accounts: Hex[]; stop: () => Promise<void>; proc: ChildProcess }


/**
 * Start anvil as a test's "remote" node (the per-transaction gas cap enforced, like mainnet). Its funded
 * development keys are read from what anvil prints at startup, not assumed.
 */
export async function startRemoteAnvil(opts: { chainId?: number; args?: string[]; hardfork?: string } = {}): Promise<RemoteAnvil> {
  const port = await freePort()
  const chainId = opts.chainId ?? 31_338
  const proc = spawn(findAnvil(), ['--host', '127.0.0.1', '--port', String(port), '--chain-id', String(chainId), '--hardfork', opts.hardfork ?? 'prague', '--enable-tx-gas-limit', ...(opts.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`anvil did not start: ${out}`)), 120_000) // seconds when idle; generous for a busy machine
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      if (/Listening on/.test(out)) {
        clearTimeout(timer)
        resolve()
      }
    })
    proc.once('exit', (code) => reject(new Error(`anvil exited with ${code}: ${out}`)))
  })
  proc.stdout!.resume()
  const section = (title: string) => {
    const at = out.indexOf(title)
    return at < 0 ? [] : [...out.slice(at).matchAll(/^\((\d+)\) (0x[0-9a-fA-F]+)/gm)].slice(0, 10).map((m) => m[2] as Hex)
  }
  const keys = section('Private Keys')
  const accounts = section('Available Accounts')
  if (keys.length < 3) throw new Error(`could not read anvil's development keys from:\n${out}`)
  return nodeOf(proc, port, chainId, keys, accounts)
}

/** A started test node (anvil or Hardhat's) on a loopback port; `stop` ends it with SIGTERM and waits. */
export function nodeOf(proc: ChildProcess, port: number, chainId: number, keys: Hex[], accounts: Hex[]): RemoteAnvil {
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    chainId,
    keys,
    accounts,
    proc,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return
      const exited = new Promise<void>((r) => proc.once('exit', () => r()))
      proc.kill('SIGTERM')
      await exited
    },
  }
}

/** The message a promise is rejected with (a revert's names the error), or 'no error'. */
export async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (e) {
    return String((e as Error).message)
  }
  return 'no error'
}

export const publicClientFor = (url: string) => createPublicClient({ transport: http(url) })

/** Transactions of every block: [from, to, input] (to check what ml2sc actually sent). */
export async function allTransactions(url: string): Promise<{ hash: Hex; from: Hex; to: Hex | null; input: Hex }[]> {
  const c = publicClientFor(url)
  const n = await c.getBlockNumber()
  const out: { hash: Hex; from: Hex; to: Hex | null; input: Hex }[] = []
  for (let b = 0n; b <= n; b++) {
    const block = await c.getBlock({ blockNumber: b, includeTransactions: true })
    for (const t of block.transactions) out.push({ hash: t.hash, from: t.from, to: t.to ?? null, input: t.input })
  }
  return out
}


/**
 * A project folder with a random MLP as a JSON state_dict (`model.layers` gives the architecture) and a
 * CSV of random rows in [0, 1]. `sizes` [64, 128, 10] has 9,610 parameters: 19 KB of int16 weights, too
 * big to embed in the contract, so they go to data contracts (`batch.upload` sets how many).
 */
export function randomProject(opts: { sizes?: number[]; rows?: number; seed?: number; yaml?: string; dir?: string } = {}) {
  const sizes = opts.sizes ?? [64, 128, 10]
  const rand = rng(opts.seed ?? 1)
  const dir = opts.dir ?? mkdtempSync(path.join(tmpdir(), 'ml2sc-chain-'))
  const state: Record<string, number[][] | number[]> = {}
  const layers: string[] = []
  for (let l = 0; l + 1 < sizes.length; l++) {
    const [nIn, nOut] = [sizes[l]!, sizes[l + 1]!]
    const scale = 1 / Math.sqrt(nIn)
    state[`fc${l + 1}.weight`] = Array.from({ length: nOut }, () => Array.from({ length: nIn }, () => (rand() * 2 - 1) * scale))
    state[`fc${l + 1}.bias`] = Array.from({ length: nOut }, () => (rand() * 2 - 1) * 0.1)
    layers.push('linear')
    if (l + 2 < sizes.length) layers.push('relu')
  }
  writeFileSync(path.join(dir, 'weights.json'), JSON.stringify(state))
  const nIn = sizes[0]!
  const nOut = sizes[sizes.length - 1]!
  const lines = [[...Array.from({ length: nIn }, (_, i) => `f${i}`), 'label'].join(',')]
  for (let r = 0; r < (opts.rows ?? 20); r++) lines.push([...Array.from({ length: nIn }, () => rand().toFixed(4)), String(Math.floor(rand() * nOut))].join(','))
  writeFileSync(path.join(dir, 'test.csv'), lines.join('\n') + '\n')
  const yaml = `model:\n  path: weights.json\n  layers: [${layers.join(', ')}]\ndata:\n  test: test.csv\n${opts.yaml ?? ''}`
  writeFileSync(path.join(dir, 'ml2sc.yaml'), yaml)
  return { dir, config: path.join(dir, 'ml2sc.yaml'), weights: path.join(dir, 'weights.json'), out: path.join(dir, 'out') }
}

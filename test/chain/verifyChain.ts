// The "remote" anvil of the `ml2sc verify` tests (verify-forgeries, verify-layouts) and what they do on it:
// verify as an outside party (no key), deploy or write as some account, edit code, read getters.
import { afterAll, beforeAll, expect } from 'bun:test'
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createWalletClient, defineChain, http, toHex, type Abi, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { publicClientFor, startRemoteAnvil, type RemoteAnvil } from './helpers.ts'

/** A development chain id on loopback: free, so `run` makes no estimate on a private anvil first (not what verify is about). */
export const CHAIN_ID = 31_337
/** The file's node, set by useVerifyChain's beforeAll (registered first, so the file's own hooks see it). */
export const node = { remote: undefined as unknown as RemoteAnvil }

/** One remote anvil for the file, started before its first test with no signing key in the environment. */
export function useVerifyChain(): void {
  beforeAll(async () => {
    delete process.env.ML2SC_PRIVATE_KEY
    node.remote = await startRemoteAnvil({ chainId: CHAIN_ID })
  }, 900_000)
  afterAll(async () => await node.remote?.stop())
}

export const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'))
export const client = () => publicClientFor(node.remote.url)
export const chainYaml = () => `chain:\n  rpcUrl: ${node.remote.url}\n  chainId: ${CHAIN_ID}\n`

/** `ml2sc verify … --json` with no signing key in the environment (src/cli.ts in this process: verify compiles with solc here once per source, not in a new process each time). */
export async function verify(config: string, ...args: string[]) {
  const r = await runCliInProcess(['verify', config, '--json', ...args])
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('ml2sc:'))
  return { ...r, json: r.stdout.trim() ? JSON.parse(r.stdout) : undefined, lines }
}

const walletOf = (key: Hex) => {
  const url = node.remote.url
  const chain = defineChain({ id: CHAIN_ID, name: 'remote', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [url] } } })
  return createWalletClient({ account: privateKeyToAccount(key), chain, transport: http(url) })
}

/** Deploy creation code from the account of `key`; returns the new contract. */
export async function deployAs(key: Hex, data: Hex): Promise<Hex> {
  const hash = await walletOf(key).sendTransaction({ data, gas: 15_000_000n })
  const receipt = await client().waitForTransactionReceipt({ hash })
  expect(receipt.status).toBe('success')
  return receipt.contractAddress!
}

export async function sendAs(key: Hex, to: Hex, abi: Abi, functionName: string, args: unknown[]) {
  const hash = await walletOf(key).writeContract({ address: to, abi, functionName, args, gas: 15_000_000n })
  expect((await client().waitForTransactionReceipt({ hash })).status).toBe('success')
}

export const setCode = async (address: Hex, code: Hex) => await client().request({ method: 'anvil_setCode' as 'eth_chainId', params: [address, code] as never })
/** Overwrite one storage word of `address` (anvil_setStorageAt), as a forger with the node's ear would. */
export const setSlot = async (address: Hex, slot: number, v: bigint) =>
  await client().request({ method: 'anvil_setStorageAt' as 'eth_chainId', params: [address, toHex(slot, { size: 32 }), toHex(v, { size: 32 })] as never })
/** A model's state word (slot 2: the update's kernel contract, its version and flags). */
export const slot2 = async (address: Hex) => BigInt((await client().getStorageAt({ address, slot: toHex(2, { size: 32 }) })) ?? 0)
export const read = async <T,>(address: Hex, abi: Abi, functionName: string, args: unknown[] = []) => (await client().readContract({ address, abi, functionName, args })) as T

/** A third party's folder: the config (no chain key) and `files` from the publisher's folder, no output folder. */
export function thirdParty(from: string, files: string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-third-'))
  for (const f of files) copyFileSync(path.join(path.dirname(from), f), path.join(dir, f))
  writeFileSync(path.join(dir, 'ml2sc.yaml'), readFileSync(from, 'utf8').replace(/chain:\n(  .*\n)+/, ''))
  return path.join(dir, 'ml2sc.yaml')
}

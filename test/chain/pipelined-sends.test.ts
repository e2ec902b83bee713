// Speed on real block times: independent transactions go out with consecutive nonces without waiting for
// each receipt. On an anvil that mines a block every 3 seconds (like a real chain, not on demand), the
// upload chunks (but the last, which checks the commitment over all of them) share blocks, and so do the
// evaluation batches; sent one per block they would take one block each. 3 s rather than 1 s: pipelined
// sends of 9 chunks take well under a second here, so a machine 5× slower still fits them in 3 blocks
// (with 1 s blocks a busy machine's slower signing could spread them over more).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { Hex } from 'viem'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { publicClientFor, randomProject, startRemoteAnvil, type RemoteAnvil } from './helpers.ts'

let node: RemoteAnvil
beforeAll(async () => {
  node = await startRemoteAnvil({ chainId: 4250, args: ['--block-time', '3'] })
})
afterAll(async () => await node?.stop())
const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'))

describe('pipelined transactions', () => {
  test('10 upload chunks and 5 evaluation batches on 3-second blocks: a few blocks, not one each', async () => {
    const env = { ML2SC_PRIVATE_KEY: node.keys[0]! }
    // 64-128-10 with int16 weights: 19.6 KB in 2 KB chunks (10 transactions); 40 rows in batches of 8 (--tx)
    const p = randomProject({ sizes: [64, 128, 10], rows: 40, seed: 12, yaml: `precision:\n  weights: int16\nbatch:\n  upload: 2048\n  rows: 8\nchain:\n  rpcUrl: ${node.url}\n  chainId: 4250\n` })
    const t0 = Date.now()
    // src/cli.ts in this process: the sends are the point, not the process
    const r = await runCliInProcess(['run', p.config, '--yes', '--tx'], { env })
    const seconds = (Date.now() - t0) / 1000
    expect(r.stderr).not.toContain('ml2sc: error')
    expect(r.code).toBe(0)
    // --tx on a paid chain: the estimate covers the evaluation batches and the one-row predict transaction
    expect(r.stderr).toMatch(/estimated cost [^\n]*evaluate ≈ [\d,]+ in 5 tx; predict \(one row\) ≈ [\d,]+\)/)
    const client = publicClientFor(node.url)
    const blocksOf = async (hashes: Hex[]) => new Set(await Promise.all(hashes.map(async (h) => (await client.getTransactionReceipt({ hash: h })).blockNumber)))
    const dep = readJson(path.join(p.out, 'deployment.json'))
    expect(dep.transactions.upload).toHaveLength(10)
    const uploadBlocks = await blocksOf(dep.transactions.upload.slice(0, 9))
    expect(uploadBlocks.size).toBeLessThanOrEqual(3)
    const ev = readJson(path.join(p.out, 'evaluation.json'))
    expect(ev.transactions).toHaveLength(5)
    expect((await blocksOf(ev.transactions.map((t: { hash: Hex }) => t.hash))).size).toBeLessThanOrEqual(2)
    const report = readJson(path.join(p.out, 'report.json'))
    expect(report.accuracy.agreement).toBe(1)
    expect(report.simulator.mismatches).toBe(0)
    // measured on 1 s blocks: 15 s here, against 23 s (and 9 upload blocks) sending one transaction at a time
    console.log(`pipelined run on 3 s blocks: ${seconds.toFixed(1)} s, upload in ${uploadBlocks.size} block(s)`)
  }, 900_000)
})

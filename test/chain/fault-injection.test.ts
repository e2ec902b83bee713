// Transient faults: `ml2sc run` (src/cli.ts, in the test's process) through a proxy that throws 503s,
// timeouts, dropped and truncated responses, swallowed (never mined) transactions, a spurious nonce error
// and transactions replaced by another of the same account at a "remote" anvil. The run must still succeed
// with correct results, and the chain must show each weight chunk written exactly once.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { CREATE2_FACTORY } from '../../src/codegen/admin/adminLibrary.ts'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { decodeFunctionData, toFunctionSelector, type Abi, type Hex } from 'viem'
import { commitmentOf, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { prepareModel } from '../../src/pipeline/prepareModel.ts'
import { runCliInProcess as runCli } from '../helpers/cliInProcess.ts'
import { startFaultProxy } from './faultProxy.ts'
import { allTransactions, publicClientFor, randomProject, startRemoteAnvil, type RemoteAnvil } from './helpers.ts'
import { UPLOAD_IN_FLIGHT } from '../../src/chain/uploadWeights.ts'

let remote: RemoteAnvil
beforeAll(async () => {
  remote = await startRemoteAnvil()
})
afterAll(async () => await remote?.stop())

test('503s, timeouts, dropped and truncated responses, dropped and replaced transactions, a nonce error: the run still succeeds', async () => {
  const proxy = await startFaultProxy(remote.url, {
    warmup: 3,
    every503: 5,
    everyHang: 17,
    everyDrop: 7,
    everyTruncate: 11,
    max503: 40,
    maxHang: 4,
    maxDrop: 30,
    maxTruncate: 15,
    swallowTx: [3, 9],
    nonceErrorTx: [6],
    // a chunk write and an evaluation batch lose their nonce to another transaction
    replace: [
      { selector: toFunctionSelector('writeChunk(uint256,bytes,bytes32)'), nth: 4 },
      { selector: toFunctionSelector('predictBatch(bytes)'), nth: 2 },
    ],
    key: remote.keys[0]!,
    // a hang outlasts the client's RPC timeout (below) by far: a busy machine's slow answers stay answers
    hangMs: 6_000,
  })
  try {
    // 64-128-10 in 2 KB chunks: a deploy, 10 chunk transactions, then the evaluation batches (--tx: as transactions,
    // which a paid chain otherwise answers with calls)
    const p = randomProject({ sizes: [64, 128, 10], rows: 40, seed: 21, yaml: `precision:\n  weights: int16\nbatch:\n  upload: 2048\n  rows: 8\nchain:\n  rpcUrl: ${proxy.url}\n` })
    const r = await runCli(['run', p.config, '--yes', '--tx'], {
      env: { ML2SC_PRIVATE_KEY: remote.keys[0]!, ML2SC_RPC_TIMEOUT_MS: '2500', ML2SC_RPC_BACKOFF_MS: '20', ML2SC_RPC_RETRIES: '8' },
    })
    expect(r.stderr).not.toContain('ml2sc: error')
    expect(r.code).toBe(0)
    const s = proxy.stats
    expect(s.e503).toBeGreaterThan(5)
    expect(s.hangs).toBeGreaterThan(0)
    expect(s.drops).toBeGreaterThan(5)
    expect(s.truncated).toBeGreaterThan(3)
    expect(s.swallowed).toBe(2)
    expect(s.nonceErrors).toBe(1)
    expect(s.replaced).toBe(2)

    // correct results
    const report = JSON.parse(readFileSync(path.join(p.out, 'report.json'), 'utf8'))
    expect(report.rows.answered).toBe(40)
    expect(report.simulator.mismatches).toBe(0)
    // a random model has no PyTorch outputs: agreement here is with ml2sc's own float pass, and the report says so
    expect(report.reference.source).toBe('ml2sc-float')
    expect(report.accuracy.agreement).toBe(1)

    // on chain: one deploy, each chunk exactly once, the local commitment
    const dep = JSON.parse(readFileSync(path.join(p.out, 'deployment.json'), 'utf8'))
    const abi = dep.abi as Abi
    const txs = await allTransactions(remote.url)
    expect(txs.filter((t) => t.to === null)).toHaveLength(1)
    // and the shared admin library, once, through the CREATE2 deployment proxy
    expect(txs.filter((t) => t.to?.toLowerCase() === CREATE2_FACTORY)).toHaveLength(1)
    // the two replacements (0-value self-transfers that took ml2sc's nonces) did land
    const kinds = txs.map((t) => (t.to === null ? 'deploy' : t.to.toLowerCase() === CREATE2_FACTORY ? 'admin library' : t.to.toLowerCase() === t.from.toLowerCase() ? 'other' : decodeFunctionData({ abi, data: t.input }).functionName))
    const others = kinds.flatMap((k, i) => (k === 'other' ? [i] : []))
    expect(others).toHaveLength(2)
    // ml2sc sent the replaced chunk write and the replaced batch again, right after
    expect(others.map((i) => kinds[i + 1])).toEqual(['writeChunk', 'predictBatch'])
    // each chunk written once. Uploads are pipelined: the chunks already in flight behind the replaced one
    // ran without it and reverted (ChunkOutOfOrder, nothing written), then were sent again in order
    const client = publicClientFor(remote.url)
    const writes = await Promise.all(
      txs
        .filter((t) => t.to?.toLowerCase() === dep.address.toLowerCase() && decodeFunctionData({ abi, data: t.input }).functionName === 'writeChunk')
        .map(async (t) => ({ index: Number(decodeFunctionData({ abi, data: t.input }).args![0]), ok: (await client.getTransactionReceipt({ hash: t.hash })).status === 'success' })),
    )
    expect(writes.filter((w) => w.ok).map((w) => w.index)).toEqual(Array.from({ length: 10 }, (_, i) => i))
    expect(writes.filter((w) => !w.ok).length).toBeLessThan(UPLOAD_IN_FLIGHT)
    const batches = txs.filter((t) => t.to?.toLowerCase() === dep.address.toLowerCase() && decodeFunctionData({ abi, data: t.input }).functionName === 'predictBatch')
    expect(batches).toHaveLength(5)
    const plan = (await prepareModel(await loadConfig(p.config))).plan
    const onChain = await publicClientFor(remote.url).readContract({ address: dep.address as Hex, abi, functionName: 'commitment', args: [] })
    expect(onChain).toBe(commitmentOf(encodeWeights(plan)))
  } finally {
    await proxy.stop()
  }
}, 900_000)

test('insufficient funds: one clear error before anything is sent', async () => {
  const p = randomProject({ sizes: [8, 12, 2], rows: 4, seed: 2, yaml: `chain:\n  rpcUrl: ${remote.url}\n` })
  const before = (await allTransactions(remote.url)).length
  // a valid key of an account that holds nothing
  const r = await runCli(['run', p.config, '--yes'], { env: { ML2SC_PRIVATE_KEY: '0x' + '42'.repeat(32) } })
  expect(r.code).not.toBe(0)
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('ml2sc: error'))
  expect(errors).toHaveLength(1)
  expect(errors[0]).toMatch(/insufficient funds: 0x[0-9a-fA-F]{40} holds 0 ETH, the estimated cost is .* ETH.*hint: fund the account of ML2SC_PRIVATE_KEY/)
  expect((await allTransactions(remote.url)).length).toBe(before)
})

// The node's own limits and EVM, read before anything is spent: a node whose block gas limit is under
// chain.txGasCap (3,000,000 here) gets uploads planned under it, or a refusal naming batch.upload and the
// node's limit, with nothing sent; a node without PUSH0 (a pre-Shanghai EVM) is refused in one line
// naming chain.hardfork, and works once chain.hardfork names its fork. report.json records what the node
// showed beside the config's hardfork.
import { afterAll, describe, expect, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { allTransactions, randomProject, startRemoteAnvil, type RemoteAnvil } from './helpers.ts'

// The first node is a paid chain (report.json says so); the others have chain id 31337 on loopback, a free
// development chain: run then makes no estimate on a private anvil first, and their refusals come from the
// same checks (the node's limits and EVM, read before anything is sent)
const nodes: RemoteAnvil[] = []
afterAll(async () => {
  for (const n of nodes) await n.stop()
})
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('ml2sc: error'))

describe("the node's limits", () => {
  test('block gas limit 4,000,000: an upload chunk over it is refused before the deploy, naming batch.upload; the suggested size runs; update under a lower limit is refused before sending', async () => {
    const node = await startRemoteAnvil({ chainId: 4245, args: ['--gas-limit', '4000000'] })
    nodes.push(node)
    const env = { ML2SC_PRIVATE_KEY: node.keys[0]! }
    // 64-128-10: 19 KB of int16 weights, one data contract of ~4.5M gas under the default chunk size
    const p = randomProject({ sizes: [64, 128, 10], rows: 8, seed: 4, yaml: `precision:\n  weights: int16\nchain:\n  rpcUrl: ${node.url}\n  chainId: 4245\n` })
    const r = await runCliInProcess(['run', p.config, '--yes'], { env })
    expect(r.code).not.toBe(0)
    expect(errorLines(r.stderr)).toHaveLength(1)
    const line = errorLines(r.stderr)[0]!
    expect(line).toMatch(/batch\.upload.*upload chunk 1\/\d+ \([\d,]+ bytes\) needs about [\d,]+ gas, over the node's block gas limit of 4,000,000/)
    expect((await allTransactions(node.url)).length).toBe(0)
    const fits = Number(/set batch\.upload: (\d+)/.exec(r.stderr)?.[1])
    expect(fits).toBeGreaterThan(1000)
    writeFileSync(p.config, readFileSync(p.config, 'utf8') + `batch:\n  upload: ${fits}\n`)
    const ok = await runCliInProcess(['run', p.config, '--yes', '--json'], { env })
    expect(ok.stderr).not.toContain('ml2sc: error')
    expect(ok.code).toBe(0)
    const report = JSON.parse(readFileSync(path.join(p.out, 'report.json'), 'utf8'))
    expect(report.chain).toMatchObject({ chainId: 4245, local: false, hardfork: 'prague', push0: true, blockGasLimit: 4_000_000 })
    expect(report.chain.node).toMatch(/^anvil\//)
    expect(report.accuracy.agreement).toBe(1)
    // every transaction fitted in the node's blocks
    const client = (await import('./helpers.ts')).publicClientFor(node.url)
    for (const t of await allTransactions(node.url)) expect(Number((await client.getTransactionReceipt({ hash: t.hash })).gasUsed)).toBeLessThanOrEqual(4_000_000)

    // the node's limit drops under the deployed contract's chunks: update refuses before sending anything
    await client.request({ method: 'evm_setBlockGasLimit' as never, params: ['0x' + (1_500_000).toString(16)] as never })
    await client.request({ method: 'evm_mine' as never, params: [] as never })
    const w = JSON.parse(readFileSync(p.weights, 'utf8'))
    w['fc1.weight'][0][0] *= 0.5
    writeFileSync(p.weights, JSON.stringify(w))
    const before = (await allTransactions(node.url)).length
    const u = await runCliInProcess(['update', p.config, '--yes'], { env })
    expect(u.code).not.toBe(0)
    expect(errorLines(u.stderr)).toHaveLength(1)
    expect(errorLines(u.stderr)[0]).toMatch(/chain\.rpcUrl: upload chunk \d+\/\d+ .* over the node's block gas limit of 1,500,000 \(hint: the deployed contract's chunk size cannot change/)
    expect((await allTransactions(node.url)).length).toBe(before)
  })

  // 1,000,000: the 64-128-10 contract's deploy is over it (issue 23's smaller kernels brought it under 1.5M), the admin library's (512k) is not
  test("block gas limit 1,000,000: a deploy over it is refused naming the node's limit, not chain.txGasCap", async () => {
    const node = await startRemoteAnvil({ chainId: 31_337, args: ['--gas-limit', '1000000'] })
    nodes.push(node)
    const p = randomProject({ sizes: [64, 128, 10], rows: 4, seed: 4, yaml: `chain:\n  rpcUrl: ${node.url}\n  chainId: 31337\n` })
    const r = await runCliInProcess(['run', p.config, '--yes'], { env: { ML2SC_PRIVATE_KEY: node.keys[0]! } })
    expect(r.code).not.toBe(0)
    expect(errorLines(r.stderr)).toHaveLength(1)
    expect(errorLines(r.stderr)[0]).toMatch(/chain\.rpcUrl: deploy needs (more gas than|[\d,]+ gas, over) the node's block gas limit of 1,000,000 \(hint: a deployment cannot be split: raise the node's block gas limit/)
    expect((await allTransactions(node.url)).length).toBe(0)
  })

  test('a pre-Shanghai node (no PUSH0) with the default hardfork: one line naming chain.hardfork, nothing sent; chain.hardfork: paris runs', async () => {
    const node = await startRemoteAnvil({ chainId: 31_337, hardfork: 'paris' })
    nodes.push(node)
    const env = { ML2SC_PRIVATE_KEY: node.keys[0]! }
    const p = randomProject({ sizes: [6, 8, 3], rows: 6, seed: 9, yaml: `chain:\n  rpcUrl: ${node.url}\n  chainId: 31337\n` })
    const r = await runCliInProcess(['run', p.config, '--yes'], { env })
    expect(r.code).not.toBe(0)
    expect(errorLines(r.stderr)).toHaveLength(1)
    expect(errorLines(r.stderr)[0]).toMatch(/chain\.hardfork.*has no PUSH0 \(its EVM predates Shanghai\), which code compiled for chain\.hardfork prague uses/)
    expect((await allTransactions(node.url)).length).toBe(0)
    writeFileSync(p.config, readFileSync(p.config, 'utf8').replace('  chainId: 31337\n', '  chainId: 31337\n  hardfork: paris\n'))
    const ok = await runCliInProcess(['run', p.config, '--yes'], { env })
    expect(ok.stderr).not.toContain('ml2sc: error')
    expect(ok.code).toBe(0)
    const report = JSON.parse(readFileSync(path.join(p.out, 'report.json'), 'utf8'))
    expect(report.chain).toMatchObject({ hardfork: 'paris', push0: false })
    expect(report.accuracy.agreement).toBe(1)
  })
})

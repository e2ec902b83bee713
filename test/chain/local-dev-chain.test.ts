// "Local means local": a node on this machine with a development chain id (31337: anvil, Hardhat; 1337:
// ganache) costs nothing, so it needs no --yes; the same node with another chain id, or a remote host
// with a development chain id, still does.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { connectChain, isLocalDevChain } from '../../src/chain/connectChain.ts'
import { approveSpending, assertSpendingAllowed } from '../../src/chain/spendGuard.ts'
import { hardforkDifference } from '../../src/chain/nodeProfile.ts'
import { startRemoteAnvil, type RemoteAnvil } from './helpers.ts'
import { bcProject } from '../commands/helpers.ts'
import { runCliInProcess as runCli } from '../helpers/cliInProcess.ts'
import { readFileSync } from 'node:fs'
import path from 'node:path'

const nodes: RemoteAnvil[] = []
let prague: Promise<RemoteAnvil> | undefined
/** One loopback anvil, chain id 31337, prague: for the free-chain test and as the hardfork tests' prague node. */
const devPrague = () =>
  (prague ??= startRemoteAnvil({ chainId: 31_337, hardfork: 'prague' }).then((n) => {
    nodes.push(n)
    return n
  }))
beforeAll(() => approveSpending(false))
afterAll(async () => {
  for (const n of nodes) await n.stop()
})

describe('a loopback development chain is free', () => {
  test('isLocalDevChain: loopback host and chain id 31337 or 1337, nothing else', () => {
    for (const url of ['http://127.0.0.1:8545', 'http://localhost:8545/', 'http://[::1]:8545', 'http://127.0.0.2:8545'])
      for (const id of [31_337, 1_337]) expect(isLocalDevChain(url, id)).toBe(true)
    expect(isLocalDevChain('http://127.0.0.1:8545', 1)).toBe(false)
    expect(isLocalDevChain('http://127.0.0.1:8545', 31_338)).toBe(false)
    expect(isLocalDevChain('http://10.0.0.5:8545', 31_337)).toBe(false)
    expect(isLocalDevChain('https://localhost.example.com', 31_337)).toBe(false)
    expect(isLocalDevChain('not a url', 31_337)).toBe(false)
  })

  test('chain.rpcUrl at a local anvil with chain id 31337: sending needs no --yes; with 31338 it does', async () => {
    // the 31337 node is the prague one of the hardfork tests below (the same node: anvil, loopback, 31337, prague)
    const dev = await devPrague()
    const other = await startRemoteAnvil({ chainId: 31_338 })
    nodes.push(other)
    const cfg = (url: string) => ({ rpcUrl: url, hardfork: 'prague', txGasCap: 16_777_216, blockGasLimit: 30_000_000 })
    const a = await connectChain(cfg(dev.url), { ML2SC_PRIVATE_KEY: dev.keys[0]! })
    const b = await connectChain(cfg(other.url), { ML2SC_PRIVATE_KEY: other.keys[0]! })
    expect([a.free, a.local, a.kind]).toEqual([true, false, 'rpc'])
    expect(b.free).toBe(false)
    expect(() => assertSpendingAllowed(a, 'x')).not.toThrow()
    expect(() => assertSpendingAllowed(b, 'x')).toThrow(/not a local chain: sending a transaction \(x\) needs --yes/)
    await a.close()
    await b.close()
  })
})

describe('a node on another hardfork than chain.hardfork', () => {
  test('hardforkDifference says what differs for ml2sc, and nothing where nothing does', () => {
    expect(hardforkDifference('prague', 'prague')).toBeUndefined()
    expect(hardforkDifference('osaka', 'prague')).toBeUndefined() // the tx gas cap is kept everywhere; CLZ unused at prague
    expect(hardforkDifference('cancun', 'prague')).toMatch(/^the node runs cancun, chain\.hardfork is prague: no EIP-7623 calldata floor \(Prague\).*set chain\.hardfork: cancun/)
    expect(hardforkDifference('cancun', 'prague')).not.toMatch(/MCOPY/)
    expect(hardforkDifference('shanghai', 'prague')).toMatch(/no MCOPY or transient storage \(Cancun\).*; no EIP-7623 calldata floor/)
    expect(hardforkDifference('prague', 'cancun')).toMatch(/the EIP-7623 calldata floor \(Prague\) applies here/)
    expect(hardforkDifference('prague', 'osaka')).toMatch(/no CLZ \(Osaka\)/)
  })

  test("the node's EVM is read from free probes, and run says what differs on a cancun node under prague", async () => {
    const nodesByFork = await Promise.all(['shanghai', 'cancun', 'prague', 'osaka'].map((hardfork) => (hardfork === 'prague' ? devPrague() : startRemoteAnvil({ chainId: 31_337, hardfork }))))
    nodes.push(...nodesByFork.filter((n) => !nodes.includes(n)))
    const cfg = (url: string) => ({ rpcUrl: url, hardfork: 'prague', txGasCap: 16_777_216, blockGasLimit: 30_000_000 })
    const evms = []
    for (const n of nodesByFork) {
      const s = await connectChain(cfg(n.url), { ML2SC_PRIVATE_KEY: n.keys[0]! })
      evms.push(s.node.evm)
      await s.close()
    }
    expect(evms).toEqual(['shanghai', 'cancun', 'prague', 'osaka'])
    // the whole run on the cancun node: the warning on stderr, and report.json calls the loopback dev node local
    const cfgFile = bcProject(`chain:\n  rpcUrl: ${nodesByFork[1]!.url}\n`)
    const r = await runCli(['run', cfgFile], { env: { ML2SC_PRIVATE_KEY: nodesByFork[1]!.keys[0]! } })
    expect(r.code).toBe(0)
    expect(r.stderr).toContain('ml2sc: warning: the node runs cancun, chain.hardfork is prague: no EIP-7623 calldata floor')
    const report = JSON.parse(readFileSync(path.join(path.dirname(cfgFile), 'out', 'report.json'), 'utf8'))
    expect(report.chain).toMatchObject({ chainId: 31_337, local: true, embedded: false })
    // progress from the first second: precision selection has its line, and the evaluate bar shows before
    // the first batch is answered, its rate never 0
    const lines = r.stderr.split('\n')
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l))
    expect(at(/^• choose the precision \(precision: auto\)$/)).toBeGreaterThan(-1)
    expect(at(/^• choose the precision/)).toBeLessThan(at(/^• generate /))
    expect(at(/evaluate \[░+\] 0\/50 {2}waiting for the first batch$/)).toBeGreaterThan(at(/^• evaluate on chain/))
    expect(at(/evaluate \[█+\] 50\/50 {2}[\d.,]+ (rows\/s|s\/row), /)).toBeGreaterThan(at(/waiting for the first batch/))
    expect(r.stderr).not.toMatch(/ 0 rows\/s/)
    // the prague node: not a word
    const same = await runCli(['run', bcProject(`chain:\n  rpcUrl: ${nodesByFork[2]!.url}\n`)], { env: { ML2SC_PRIVATE_KEY: nodesByFork[2]!.keys[0]! } })
    expect(same.code).toBe(0)
    expect(same.stderr).not.toContain('warning: the node runs')
  })
})

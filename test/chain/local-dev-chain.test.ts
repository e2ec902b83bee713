// "Local means local": a node on this machine with a development chain id (31337: anvil, Hardhat; 1337:
// ganache) costs nothing, so it needs no --yes; the same node with another chain id, or a remote host
// with a development chain id, still does.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { connectChain, isLocalDevChain } from '../../src/chain/connectChain.ts'
import { approveSpending, assertSpendingAllowed } from '../../src/chain/spendGuard.ts'
import { startRemoteAnvil, type RemoteAnvil } from './helpers.ts'

const nodes: RemoteAnvil[] = []
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
    const dev = await startRemoteAnvil({ chainId: 31_337 })
    const other = await startRemoteAnvil({ chainId: 31_338 })
    nodes.push(dev, other)
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

// Second clients: the whole life of a model (run → verify → predict → update → verify → predict) against
// Hardhat's node (Hardhat 2, EDR engine; chain id 31337 on loopback: a local development chain, so no
// --yes) and against an anvil with another chain id and no CREATE2 deployment proxy (a paid chain as far
// as ml2sc knows: --yes). Neither node has the proxy: ml2sc deploys it with no manual step. The tests start
// and stop the nodes; predict and verify send no transaction.
import { afterAll, describe, expect, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { CREATE2_FACTORY } from '../../src/codegen/admin/adminLibrary.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { hardhatMissing, startHardhatNode } from './hardhatNode.ts'
import { allTransactions, publicClientFor, randomProject, startRemoteAnvil, type RemoteAnvil } from './helpers.ts'

const nodes: RemoteAnvil[] = []
afterAll(async () => {
  for (const n of nodes) await n.stop()
})
const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'))

type Client = { name: string; start: () => Promise<RemoteAnvil>; yes: string[]; node: RegExp }
const clients: Client[] = [
  { name: "Hardhat's node (EDR), chain id 31337: local, no --yes", start: () => startHardhatNode(), yes: [], node: /^HardhatNetwork\/2\./ },
  { name: 'anvil, chain id 4247, --disable-default-create2-deployer: paid, --yes', start: () => startRemoteAnvil({ chainId: 4247, args: ['--disable-default-create2-deployer'] }), yes: ['--yes'], node: /^anvil\// },
]

async function lifecycle(c: Client) {
  const node = await c.start()
  nodes.push(node)
  const env = { ML2SC_PRIVATE_KEY: node.keys[0]! }
  const client = publicClientFor(node.url)
  expect(await client.getCode({ address: CREATE2_FACTORY })).toBeUndefined()
  // 32-160-4: 12.5 KB of int16 weights, over what is embedded in the code: data contracts of 4,096 bytes
  const p = randomProject({ sizes: [32, 160, 4], rows: 12, seed: 31, yaml: `batch:\n  upload: 4096\nchain:\n  rpcUrl: ${node.url}\n  chainId: ${node.chainId}\n` })
  const cli = async (args: string[]) => {
    const r = await runCliInProcess(args, { env })
    expect(r.stderr).not.toContain('ml2sc: error')
    expect(r.code).toBe(0)
    return r
  }
  const run = await cli(['run', p.config, ...c.yes])
  // the estimate names the proxy (printed as a step where it costs money, a detail on a local chain)
  if (c.yes.length) expect(run.stderr).toMatch(/estimated cost .*CREATE2 deployment proxy \(once per chain\) 21,000 \+ 0\.01 ETH/)
  expect(await client.getCode({ address: CREATE2_FACTORY })).toBeDefined()
  const dep = readJson(path.join(p.out, 'deployment.json'))
  expect(dep.gas.create2ProxyFund).toBe(21_000)
  expect(dep.transactions.create2ProxyFund).toMatch(/^0x[0-9a-f]{64}$/)
  const report = readJson(path.join(p.out, 'report.json'))
  expect(report.accuracy.agreement).toBe(1)
  expect(report.simulator.mismatches).toBe(0)
  expect(report.chain.chainId).toBe(node.chainId)
  expect(report.chain.node).toMatch(c.node)
  expect(report.chain.push0).toBe(true)

  const offchain = JSON.parse((await cli(['predict', p.config, '--input', path.join(p.dir, 'test.csv'), '--offchain', '--json'])).stdout)
  const sent = (await allTransactions(node.url)).length
  await cli(['verify', p.config])
  const onchain = JSON.parse((await cli(['predict', p.config, '--input', path.join(p.dir, 'test.csv'), '--json'])).stdout)
  expect(onchain.rows).toEqual(offchain.rows)
  expect(onchain.rows).toHaveLength(12)
  expect((await allTransactions(node.url)).length).toBe(sent)

  // new weights: update writes them (version 2), verify and predict see them
  const w = readJson(p.weights)
  w['fc1.weight'][3][5] += 0.05
  w['fc2.bias'][1] -= 0.1
  writeFileSync(p.weights, JSON.stringify(w))
  await cli(['update', p.config, ...c.yes])
  expect(readJson(path.join(p.out, 'deployment.json')).modelVersion).toBe(2)
  const after = (await allTransactions(node.url)).length
  expect((await cli(['verify', p.config])).stderr).toMatch(/verified: .*\(version 2/)
  const offchain2 = JSON.parse((await cli(['predict', p.config, '--input', path.join(p.dir, 'test.csv'), '--offchain', '--json'])).stdout)
  const onchain2 = JSON.parse((await cli(['predict', p.config, '--input', path.join(p.dir, 'test.csv'), '--json'])).stdout)
  expect(onchain2.rows).toEqual(offchain2.rows)
  expect(onchain2.rows).not.toEqual(onchain.rows)
  expect((await allTransactions(node.url)).length).toBe(after)
}

describe('second clients: run → verify → predict → update, no manual step', () => {
  const missing = hardhatMissing()
  test(clients[0]!.name, async () => {
    // Hardhat is a devDependency: a missing install is a failure, not a skip
    expect(missing).toBeUndefined()
    await lifecycle(clients[0]!)
  }, 900_000)
  test(clients[1]!.name, async () => await lifecycle(clients[1]!), 900_000)
})

// `bin/ml2sc` against a "remote" node (a second anvil started here, its key in ML2SC_PRIVATE_KEY): the
// estimate and the --yes gate, deployment.json, verify detecting a changed weight, update (version bump,
// ModelUpdated), and chain.fork (an embedded anvil forking the remote: local, so no --yes; nothing reaches
// the remote).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { adminLibrary } from '../../src/codegen/admin/adminLibrary.ts'
import { runtimeCodeHash } from '../../src/compile/runtimeCodeHash.ts'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { parseEventLogs, type Abi, type Hex } from 'viem'
import { commitmentOf, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { prepareModel } from '../../src/pipeline/prepareModel.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { allTransactions, publicClientFor, randomProject, startRemoteAnvil, type RemoteAnvil } from './helpers.ts'

let remote: RemoteAnvil
let env: Record<string, string>
// 32-160-4: 5,924 parameters, about 12.5 KB of weights, in data contracts of 4,096 bytes (batch.upload)
let p: ReturnType<typeof randomProject>
beforeAll(async () => {
  remote = await startRemoteAnvil({ chainId: 4242 })
  env = { ML2SC_PRIVATE_KEY: remote.keys[0]! }
  p = randomProject({ sizes: [32, 160, 4], rows: 10, seed: 11, yaml: `batch:\n  upload: 4096\nchain:\n  rpcUrl: ${remote.url}\n  chainId: 4242\n` })
})
afterAll(async () => await remote?.stop())

const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'))
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('ml2sc: error'))
const localCommitment = async (config: string) => commitmentOf(encodeWeights((await prepareModel(await loadConfig(config))).plan))

describe('a non-local chain (chain.rpcUrl)', () => {
  test('without --yes: the estimated cost is printed, nothing is sent, one clear error', async () => {
    const r = await runCliInProcess(['run', p.config], { env })
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/estimated cost ≈ [\d.e-]+ ETH: [\d,]+ gas at [\d.]+ gwei \((admin library \(once per chain\) [\d,]+; )?deploy [\d,]+(; upload ≈ [\d,]+ in \d+ tx( \+ 1 wei)?)?\)/)
    expect(errorLines(r.stderr)).toHaveLength(1)
    expect(errorLines(r.stderr)[0]).toMatch(/chain 4242 .* not a local chain: spending ≈ .* ETH needs --yes/)
    expect((await allTransactions(remote.url)).length).toBe(0)
    // the guard's upload figure is `ml2sc gas`'s: the same transactions run on a private anvil
    const g = await runCliInProcess(['gas', p.config, '--json'], { env })
    expect(g.code).toBe(0)
    const upload = Number(r.stderr.match(/upload ≈ ([\d,]+) in/)![1]!.replace(/,/g, ''))
    expect(upload).toBe(JSON.parse(g.stdout).upload)
  })

  test('with --yes: deployed; deployment.json has chain id, addresses, ABI, transactions, commitment, config hash, version', async () => {
    const r = await runCliInProcess(['run', p.config, '--yes'], { env })
    expect(r.stderr).not.toContain('ml2sc: error')
    expect(r.code).toBe(0)
    const dep = readJson(path.join(p.out, 'deployment.json'))
    expect(dep.chainId).toBe(4242)
    expect(dep.address).toMatch(/^0x[0-9a-fA-F]{40}$/)
    expect(Array.isArray(dep.abi)).toBe(true)
    expect(dep.abi.some((x: { name?: string }) => x.name === 'writeChunk')).toBe(true)
    expect(dep.commitment).toBe(await localCommitment(p.config))
    expect(dep.configHash).toMatch(/^[0-9a-f]{64}$/)
    expect(dep.ml2sc).toMatch(/^\d+\.\d+\.\d+/)
    expect(dep.transactions.deploy).toMatch(/^0x[0-9a-f]{64}$/)
    expect(dep.owner.toLowerCase()).toBe(remote.accounts[0]!.toLowerCase())
    expect(dep.modelVersion).toBe(1)
    const client = publicClientFor(remote.url)
    const receipt = await client.getTransactionReceipt({ hash: dep.transactions.deploy })
    expect(receipt.contractAddress?.toLowerCase()).toBe(dep.address.toLowerCase())
    // the code's identity: its hash with the immutable deployer zeroed
    expect(runtimeCodeHash((await client.getCode({ address: dep.address }))!, dep.immutables)).toBe(dep.codeHash)
    expect(dep.immutables).toHaveLength(1)
    expect(dep.adminLibrary.address).toBe(adminLibrary().address)
    const onChain = await client.readContract({ address: dep.address, abi: dep.abi as Abi, functionName: 'commitment', args: [] })
    expect(onChain).toBe(dep.commitment)
  })

  test('verify: exit 0 for the deployed weights', async () => {
    const r = await runCliInProcess(['verify', p.config], { env })
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/verified: the contract at 0x[0-9a-fA-F]{40} on chain 4242 holds .*weights\.json \(version 1/)
  })

  test('verify detects a changed weight: exit 1 and a clear message', async () => {
    const w = JSON.parse(readFileSync(p.weights, 'utf8'))
    w['fc1.weight'][5][7] += 0.02
    await Bun.write(p.weights, JSON.stringify(w))
    const r = await runCliInProcess(['verify', p.config, '--json'], { env })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/verify failed: commitment differs: on chain 0x[0-9a-f]{64} \(version 1\), local 0x[0-9a-f]{64} \(.*weights\.json\)/)
    expect(r.stderr).not.toMatch(/\n\s+at .*\.ts:\d+/)
    const out = JSON.parse(r.stdout)
    expect(out.verified).toBe(false)
    expect(out.local).toBe(await localCommitment(p.config))
    expect(out.onchain).not.toBe(out.local)
  })

  test('update needs --yes too', async () => {
    const before = (await allTransactions(remote.url)).length
    const r = await runCliInProcess(['update', p.config], { env })
    expect(r.code).not.toBe(0)
    expect(errorLines(r.stderr)[0]).toMatch(/needs --yes/)
    expect((await allTransactions(remote.url)).length).toBe(before)
  })

  test('update by a stranger: the owner-only write reverts (NotOwner), nothing is sent', async () => {
    const before = (await allTransactions(remote.url)).length
    const r = await runCliInProcess(['update', p.config, '--yes'], { env: { ML2SC_PRIVATE_KEY: remote.keys[4]! } })
    expect(r.code).not.toBe(0)
    expect(errorLines(r.stderr)).toHaveLength(1)
    expect(errorLines(r.stderr)[0]).toMatch(new RegExp(`reverted: NotOwner\\(${remote.accounts[4]}\\).*hint: only the contract's owner`))
    expect((await allTransactions(remote.url)).length).toBe(before)
  })

  test('update: new weights uploaded, version 2, ModelUpdated(2, commitment) emitted; verify passes again', async () => {
    const r = await runCliInProcess(['update', p.config, '--yes'], { env })
    expect(r.stderr).not.toContain('ml2sc: error')
    expect(r.code).toBe(0)
    const local = await localCommitment(p.config)
    const dep = readJson(path.join(p.out, 'deployment.json'))
    expect(dep.commitment).toBe(local)
    expect(dep.modelVersion).toBe(2)
    const sizes = readJson(path.join(p.out, 'plan.json')).weights.chunks as number[]
    expect(sizes.length).toBeGreaterThanOrEqual(3)
    expect(dep.chunks).toHaveLength(sizes.length)
    const update = dep.transactions.updates.at(-1)
    expect(update.version).toBe(2)
    expect(update.transactions).toHaveLength(sizes.length)
    const client = publicClientFor(remote.url)
    const receipt = await client.getTransactionReceipt({ hash: update.transactions.at(-1) })
    const [ev] = parseEventLogs({ abi: dep.abi as Abi, logs: receipt.logs, eventName: 'ModelUpdated' }) as unknown as { args: { version: bigint; commitment: Hex } }[]
    expect(ev!.args.version).toBe(2n)
    expect(ev!.args.commitment).toBe(local)
    expect(sizes.slice(0, 2)).toEqual([4096, 4096])
    for (const [i, a] of (dep.chunks as Hex[]).entries()) expect(((await client.getCode({ address: a }))!.length - 4) / 2).toBe(sizes[i]!)
    const v = await runCliInProcess(['verify', p.config], { env })
    expect(v.code).toBe(0)
    expect(v.stderr).toMatch(/verified: .*\(version 2, commitment /)
  })

  test('a re-run on the same chain reuses the deployment and evaluates the updated model', async () => {
    const r = await runCliInProcess(['run', p.config, '--yes'], { env })
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/reuse the contract at/)
    const report = readJson(path.join(p.out, 'report.json'))
    expect(report.simulator.mismatches).toBe(0)
    // a random model has no PyTorch outputs: agreement here is with ml2sc's own float pass, and the report says so
    expect(report.reference.source).toBe('ml2sc-float')
    expect(report.accuracy.agreement).toBe(1)
  })
})

describe('chain.fork', () => {
  test('an embedded anvil forking the remote: local (no --yes), the remote chain id, nothing sent to the remote', async () => {
    const before = (await allTransactions(remote.url)).length
    const f = randomProject({ sizes: [8, 12, 2], rows: 6, seed: 5, yaml: `chain:\n  fork: ${remote.url}\n  chainId: 4242\n` })
    const r = await runCliInProcess(['run', f.config], { env: {} })
    expect(r.stderr).not.toContain('ml2sc: error')
    expect(r.code).toBe(0)
    const dep = readJson(path.join(f.out, 'deployment.json'))
    expect(dep.chainId).toBe(4242)
    expect((await allTransactions(remote.url)).length).toBe(before)
    expect(await publicClientFor(remote.url).getCode({ address: dep.address })).toBeUndefined()
  })

  test('chain.chainId is checked against the forked chain', async () => {
    const f = randomProject({ sizes: [8, 12, 2], rows: 6, seed: 5, yaml: `chain:\n  fork: ${remote.url}\n  chainId: 1\n` })
    const r = await runCliInProcess(['run', f.config], { env: {} })
    expect(r.code).not.toBe(0)
    expect(errorLines(r.stderr)[0]).toMatch(/chain\.chainId: the RPC reports chain id 4242, but the config expects 1/)
  })
})

// `ml2sc predict` asks a deployed model through eth_call: on a node given by chain.rpcUrl it sends nothing
// (the block number stays), needs no --yes and no key, and prints what --offchain prints, byte for byte.
// --tx sends predictBatch transactions (and needs --yes on a paid chain). Columns are matched by name.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createPublicClient, createWalletClient, defineChain, http, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { startAnvil, type AnvilHandle } from '../../src/chain/startAnvil.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { startRemoteAnvil, type RemoteAnvil } from '../chain/helpers.ts'

/** anvil's first development account (public knowledge: its default mnemonic). */
const DEV_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
let anvil: AnvilHandle
let dir: string
const noKey = { ML2SC_PRIVATE_KEY: '' }
beforeAll(async () => {
  // another chain id than anvil's default: a chain that counts as paid
  anvil = await startAnvil({ hardfork: 'prague', blockGasLimit: 30_000_000, chainId: 4242 })
  dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-predict-call-'))
})
afterAll(async () => {
  await anvil?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const blockNumber = () => createPublicClient({ transport: http(anvil.rpcUrl) }).getBlockNumber()

/** The breast-cancer fixture with its columns in another order (label first, features reversed). */
function reordered(header: string, rows: string[]): string[] {
  const flip = (l: string) => {
    const c = l.split(',')
    return [c[c.length - 1], ...c.slice(0, -1).reverse()].join(',')
  }
  return [flip(header), ...rows.map(flip)]
}

describe('predict on chain.rpcUrl', () => {
  test('eth_call by default: no transaction, no --yes, no key; = --offchain byte for byte; --tx sends and needs --yes', async () => {
    const fx = path.join(FIXTURES, 'bc_sigmoid')
    copyFileSync(path.join(fx, 'model.onnx'), path.join(dir, 'model.onnx'))
    copyFileSync(path.join(fx, 'test.csv'), path.join(dir, 'test.csv'))
    const cfg = path.join(dir, 'ml2sc.yaml')
    writeFileSync(cfg, `model:\n  path: model.onnx\ndata:\n  test: test.csv\n  label: label\nchain:\n  rpcUrl: ${anvil.rpcUrl}\n`)
    const run = await runCliInProcess(['run', cfg, '--yes', '--quiet'], { env: { ML2SC_PRIVATE_KEY: DEV_KEY } })
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)

    const lines = readFileSync(path.join(fx, 'test.csv'), 'utf8').trim().split('\n')
    const input = path.join(dir, 'rows.csv')
    writeFileSync(input, lines.slice(0, 31).join('\n') + '\n')
    const before = await blockNumber()
    const on = await runCliInProcess(['predict', cfg, '--input', input, '--json'], { env: noKey })
    expect(on.stderr).toBe('')
    expect(on.code).toBe(0)
    expect(await blockNumber()).toBe(before)
    const off = await runCliInProcess(['predict', cfg, '--input', input, '--json', '--offchain'])
    expect(on.stdout).toBe(off.stdout)
    expect(JSON.parse(on.stdout).rows.length).toBe(30)

    // the same features under the same names, in another order, label first: the same answers
    const shuffled = path.join(dir, 'shuffled.csv')
    writeFileSync(shuffled, reordered(lines[0]!, lines.slice(1, 31)).join('\n') + '\n')
    const again = await runCliInProcess(['predict', cfg, '--input', shuffled, '--json'], { env: noKey })
    expect(again.code).toBe(0)
    expect(again.stdout).toBe(off.stdout)
    expect(await blockNumber()).toBe(before)

    // --tx: transactions, which on a paid chain need --yes
    const refused = await runCliInProcess(['predict', cfg, '--input', input, '--json', '--tx'], { env: { ML2SC_PRIVATE_KEY: DEV_KEY } })
    expect(refused.code).toBe(1)
    expect(refused.stdout + refused.stderr).toContain('--yes')
    expect(await blockNumber()).toBe(before)
    const tx = await runCliInProcess(['predict', cfg, '--input', input, '--json', '--tx', '--yes'], { env: { ML2SC_PRIVATE_KEY: DEV_KEY } })
    expect(tx.code).toBe(0)
    expect(tx.stdout).toBe(off.stdout)
    expect(await blockNumber()).toBeGreaterThan(before)

    // a batch.rows over what the node takes is lowered with a notice, not refused by the node
    writeFileSync(cfg, readFileSync(cfg, 'utf8') + 'batch:\n  rows: 100000\n')
    const big = await runCliInProcess(['predict', cfg, '--input', input, '--json'], { env: noKey })
    expect(big.code).toBe(0)
    expect(big.stdout).toBe(off.stdout)
  })

  test("a forgery in deployment.json's place (one lane word of its PUSH-constant weights changed) is refused: predict never answers with other weights", async () => {
    const cfg = path.join(dir, 'ml2sc.yaml')
    const out = path.join(dir, 'out')
    const sol = readFileSync(path.join(out, 'Ml2sc_model.sol'), 'utf8')
    // a forwarding model (forwardingModel.ts): its initial weights are lane words after the forward, long hex literals
    const kernelAt = sol.indexOf('if selfbalance()') + 600
    const m = /0x[0-9a-f]{24,}/.exec(sol.slice(kernelAt))!
    const at = kernelAt + m.index + m[0].length - 1
    const forged = compileSolidity(sol.slice(0, at) + (sol[at] === '1' ? '2' : '1') + sol.slice(at + 1), 'Ml2sc_model', { hardfork: 'prague' })
    const chain = defineChain({ id: 4242, name: 'remote', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [anvil.rpcUrl] } } })
    const wallet = createWalletClient({ account: privateKeyToAccount(DEV_KEY), chain, transport: http(anvil.rpcUrl) })
    const hash = await wallet.sendTransaction({ data: forged.bytecode, gas: 15_000_000n })
    const address = (await createPublicClient({ transport: http(anvil.rpcUrl) }).waitForTransactionReceipt({ hash })).contractAddress as Hex
    const depFile = path.join(out, 'deployment.json')
    const genuine = readFileSync(depFile, 'utf8')
    writeFileSync(depFile, genuine.replace(JSON.parse(genuine).address, address))
    const input = path.join(dir, 'rows.csv')
    const r = await runCliInProcess(['predict', cfg, '--input', input, '--json'], { env: noKey })
    writeFileSync(depFile, genuine)
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout).error).toMatch(/code differs at byte \d+: the contract at 0x[0-9a-fA-F]{40} is not what /)
  })
})

describe("predict on a node with a small block gas limit (1,500,000)", () => {
  let node: RemoteAnvil | undefined
  afterAll(async () => await node?.stop())
  test('a batch.rows over what one call can take is lowered with a notice instead of an opaque refusal by the node', async () => {
    node = await startRemoteAnvil({ chainId: 4246, args: ['--gas-limit', '1500000'] })
    const d = mkdtempSync(path.join(dir, 'cap-'))
    const fx = path.join(FIXTURES, 'bc_sigmoid')
    for (const f of ['model.onnx', 'test.csv']) copyFileSync(path.join(fx, f), path.join(d, f))
    const cfg = path.join(d, 'ml2sc.yaml')
    writeFileSync(cfg, `model:\n  path: model.onnx\ndata:\n  test: test.csv\n  label: label\nchain:\n  rpcUrl: ${node.url}\n  chainId: 4246\n`)
    const run = await runCliInProcess(['run', cfg, '--yes', '--quiet'], { env: { ML2SC_PRIVATE_KEY: node.keys[0]! } })
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    // 1,000 rows at ~7,000 gas each: 7M gas in one call, far over the node's 1.5M
    writeFileSync(cfg, readFileSync(cfg, 'utf8') + 'batch:\n  rows: 1000\n')
    const [header, ...rows] = readFileSync(path.join(fx, 'test.csv'), 'utf8').trim().split('\n')
    const input = path.join(d, 'many.csv')
    writeFileSync(input, [header, ...Array.from({ length: 1000 }, (_, i) => rows[i % rows.length])].join('\n') + '\n')
    const on = await runCliInProcess(['predict', cfg, '--input', input, '--json'], { env: noKey })
    expect(on.code).toBe(0)
    expect(on.stderr).toMatch(/batch\.rows 1000 is over what one call can take here \(\d+ rows under the gas cap of 1,500,000\)/)
    const off = await runCliInProcess(['predict', cfg, '--input', input, '--json', '--offchain'])
    expect(on.stdout).toBe(off.stdout)
    expect(JSON.parse(on.stdout).rows.length).toBe(1000)
  })
})

describe('predict after `ml2sc update` of a contract whose initial weights are in its code (embedded anvil)', () => {
  test('uses the updated contract (no fresh deploy) and still equals --offchain', async () => {
    const d = mkdtempSync(path.join(dir, 'upd-'))
    const fx = path.join(FIXTURES, 'bc_sigmoid')
    const weights = JSON.parse(readFileSync(path.join(fx, 'weights.json'), 'utf8')) as Record<string, number[] | number[][]>
    writeFileSync(path.join(d, 'weights.json'), JSON.stringify(weights))
    copyFileSync(path.join(fx, 'test.csv'), path.join(d, 'test.csv'))
    const cfg = path.join(d, 'ml2sc.yaml')
    writeFileSync(cfg, `model:\n  path: weights.json\n  layers: [linear, relu, linear, sigmoid]\ndata:\n  test: test.csv\n  label: label\n`)
    expect((await runCliInProcess(['run', cfg, '--quiet'])).code).toBe(0)
    // retrained: every weight 10% smaller (it fits the deployed scales)
    const scale = (v: unknown): unknown => (Array.isArray(v) ? v.map(scale) : (v as number) * 0.9)
    writeFileSync(path.join(d, 'weights.json'), JSON.stringify(Object.fromEntries(Object.entries(weights).map(([k, v]) => [k, scale(v)]))))
    const upd = await runCliInProcess(['update', cfg, '--quiet'])
    expect(upd.stderr).toBe('')
    expect(upd.code).toBe(0)
    const input = path.join(d, 'rows.csv')
    writeFileSync(input, readFileSync(path.join(fx, 'test.csv'), 'utf8').trim().split('\n').slice(0, 21).join('\n') + '\n')
    const on = await runCliInProcess(['predict', cfg, '--input', input, '--json'])
    expect(on.stderr).toBe('')
    expect(on.code).toBe(0)
    const off = await runCliInProcess(['predict', cfg, '--input', input, '--json', '--offchain'])
    expect(on.stdout).toBe(off.stdout)
  })
})

// Adversarial review of the forwarding model (forwardingModel.ts): a malicious deployer, owner or third party
// against `ml2sc verify` on a real anvil (prague). Verify must prove everything predict reads: the code before
// the initial kernel, the balance, the state word's pointer and the kernel contract there; and the initial
// kernel whenever it is what predict runs (balance 0, or wei forced in with no kernel named).
import { beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import path from 'node:path'
import { writeFileSync } from 'node:fs'
import { createWalletClient, defineChain, encodeFunctionData, http, toHex, type Abi, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { commitmentWord, forwardingPrefix, forwardPrefixEnd, kernelPayload, opcodesOf } from '../../src/codegen/forwarding/forwardingModel.ts'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { localModel } from '../../src/commands/update.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { errorOf, randomProject, type RemoteAnvil } from './helpers.ts'
import { CHAIN_ID, chainYaml, client, deployAs, node, read, readJson, setCode, setSlot, slot2, useVerifyChain, verify } from './verifyChain.ts'

setDefaultTimeout(900_000)
useVerifyChain()
let remote: RemoteAnvil
let p: ReturnType<typeof randomProject>
let address: Hex
let abi: Abi
/** The commitment of the weights the model was deployed with (its code hands it over). */
let initial: Hex
const env = () => ({ ML2SC_PRIVATE_KEY: remote.keys[0]! })
const rpc = (method: string, params: unknown[]) => client().request({ method: method as 'eth_chainId', params: params as never })
const setBalance = (a: Hex, wei: bigint) => rpc('anvil_setBalance', [a, toHex(wei)])
const wallet = (key: Hex) => createWalletClient({ account: privateKeyToAccount(key), chain: defineChain({ id: CHAIN_ID, name: 'remote', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [remote.url] } } }), transport: http(remote.url) })
/** Send `data` to the model from `key`'s account; resolves to the receipt's status. */
async function send(key: Hex, data: Hex, value = 0n): Promise<string> {
  const hash = await wallet(key).sendTransaction({ to: address, data, value, gas: 15_000_000n })
  return (await client().waitForTransactionReceipt({ hash })).status
}
/** A writeChunk from `key`'s account, simulated (eth_call): the revert's custom error decoded by name. */
const chunkAs = (key: Hex, args: [bigint, Hex, Hex], value = 0n) => client().simulateContract({ account: privateKeyToAccount(key).address, address, abi, functionName: 'writeChunk', args, value })
const writeChunk = (index: bigint, payload: Hex, commitment: Hex) => encodeFunctionData({ abi, functionName: 'writeChunk', args: [index, payload, commitment] })
const flip = (h: Hex, byte: number): Hex => {
  const b = Buffer.from(h.slice(2), 'hex')
  b[byte] = b[byte]! ^ 0x01
  return toHex(b)
}

/** `ml2sc predict` of three rows on chain (eth_call, through its checks) and --offchain (the simulator): the raw outputs. */
async function predictBoth(): Promise<[unknown, unknown]> {
  const rows = path.join(p.dir, 'rows.csv')
  writeFileSync(rows, `${Array.from({ length: 8 }, (_, i) => `f${i}`).join(',')}\n0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8\n0.9,0.1,0.8,0.2,0.7,0.3,0.6,0.4\n0,1,0,1,0,1,0,1\n`)
  const [on, off] = await Promise.all([[], ['--offchain']].map((x) => runCliInProcess(['predict', p.config, '--input', rows, '--json', ...x])))
  expect([on!.code, off!.code]).toEqual([0, 0])
  return [JSON.parse(on!.stdout), JSON.parse(off!.stdout)]
}

beforeAll(async () => {
  remote = node.remote
  p = randomProject({ sizes: [8, 12, 2], rows: 4, seed: 37, yaml: chainYaml() })
  const r = await runCliInProcess(['run', p.config, '--yes'], { env: env() })
  if (r.code !== 0) throw new Error(`ml2sc run failed: ${r.stderr}`)
  const dep = readJson(path.join(p.out, 'deployment.json'))
  address = dep.address
  abi = dep.abi
  initial = dep.commitment
}, 900_000)

describe('forwarding model forgeries', () => {
  test('static: the kernel contract can write no storage and send no wei; the code before the initial kernel has no write but the admin DELEGATECALL and the forward; no jump leaves it', async () => {
    const { upload } = await localModel(await loadConfig(p.config))
    const kernelOps = opcodesOf(upload.kernel!).map((o) => o.op)
    // SLOAD SSTORE SELFBALANCE CREATE CALL CALLCODE DELEGATECALL CREATE2 STATICCALL SELFDESTRUCT: none in the kernel's runtime
    for (const op of [0x54, 0x55, 0x47, 0xf0, 0xf1, 0xf2, 0xf4, 0xf5, 0xfa, 0xff]) expect(kernelOps).not.toContain(op)
    // and no path runs on into the weights after it (bytes the EVM would take for code): it ends with RETURN
    expect(kernelOps.at(-1)).toBe(0xf3)
    const plan = (await localModel(await loadConfig(p.config))).prep.plan
    expect(() => kernelPayload('0x60016000', plan)).toThrow(/ends with opcode 0x60, which would run on into its weights/)
    const code = (await client().getCode({ address }))!
    const end = forwardPrefixEnd(code)!
    const prefix = opcodesOf(code).filter((o) => o.at < end)
    for (const op of [0x55, 0xf0, 0xf1, 0xf2, 0xf5, 0xff]) expect(prefix.map((o) => o.op)).not.toContain(op)
    expect(prefix.filter((o) => o.op === 0xf4)).toHaveLength(2)
    // conservatively: no constant pushed before the kernel names a JUMPDEST after its start (a return address included)
    const late = new Set(opcodesOf(code).filter((o) => o.op === 0x5b && o.at > end).map((o) => o.at))
    expect(prefix.filter((o) => o.op >= 0x60 && o.op <= 0x7f && o.arg < 1n << 32n && late.has(Number(o.arg)))).toEqual([])
  })

  test('forwardingPrefix refuses a layout where a commitment-dependent byte is an opcode, or a jump before the kernel goes past it', () => {
    // PUSH2 0x000a JUMP | SELFBALANCE ISZERO PUSH2 0x000a JUMPI | JUMPDEST (0x0a, the kernel) … JUMPDEST at 0x20
    const code = (jump: number): Hex => toHex(Buffer.from([0x61, 0x00, jump, 0x56, 0x47, 0x15, 0x61, 0x00, 0x0a, 0x57, 0x5b, ...Array(21).fill(0x00), 0x5b, 0x00]))
    expect(forwardingPrefix(code(0x0a), flip(code(0x0a), 2))).toEqual({ end: 10, ignore: [{ start: 2, length: 1 }] })
    expect(forwardingPrefix(code(0x0a), flip(code(0x0a), 3))).toBeUndefined() // the JUMP opcode itself
    expect(forwardingPrefix(code(0x20), code(0x20))).toBeUndefined() // a jump into the unchecked kernel
  })

  test('wei forced in with no kernel named: predict runs the initial kernel, so a forged byte of it fails verify (and with no wei too); update does not take its handed-over commitment for its weights', async () => {
    const [on, off] = await predictBoth()
    expect(on).toEqual(off)
    const code = (await client().getCode({ address }))!
    const forged = flip(code, forwardPrefixEnd(code)! + 40)
    try {
      await setCode(address, forged)
      const still = await verify(p.config)
      expect(still.code).toBe(1)
      expect(still.lines[0]).toMatch(/^ml2sc: verify failed: code differs at byte \d+: the contract at/)
      await setBalance(address, 5n)
      const r = await verify(p.config)
      expect(r.code).toBe(1)
      expect(r.lines).toEqual([expect.stringMatching(/^ml2sc: verify failed: code differs at byte \d+ \(it runs its initial weights: no update installed a kernel contract\)/)])
      await setCode(address, code)
      const ok = await verify(p.config)
      expect(ok.lines).toEqual([])
      expect(ok.json).toMatchObject({ verified: true, version: 1, balance: '5' })
      // the forged initial kernel hands over the genuine commitment: `ml2sc update` of these same weights must
      // not take it for them ("nothing to send"), but install their kernel (with the mark), which verify passes
      await setCode(address, forged)
      await setBalance(address, 0n)
      const u = await runCliInProcess(['update', p.config, '--yes'], { env: env() })
      expect(u.code).toBe(0)
      expect(u.stderr + u.stdout).toContain('predict runs other code than their kernel: it is sent again')
      const fixed = await verify(p.config)
      expect(fixed.lines).toEqual([])
      expect(fixed.json).toMatchObject({ verified: true, version: 2, balance: '1' })
    } finally {
      await setCode(address, code)
      await setBalance(address, 0n)
      await setSlot(address, 2, 0n)
    }
  })

  test('an owner\'s kernel of foreign code with the genuine blob as its tail: the library takes it (owner-only), verify refuses it, update replaces it; drained back to 0 wei through a SELFDESTRUCT, verify still refuses', async () => {
    const { blob, commitment } = await localModel(await loadConfig(p.config))
    const evil = `0x33ff${toHex(blob).slice(2)}` as Hex // CALLER SELFDESTRUCT, in the model's context
    // a third party cannot install it, with or without the mark
    expect(await errorOf(chunkAs(remote.keys[1]!, [0n, evil, commitment], 1n))).toMatch(/NotOwner/)
    expect(await send(remote.keys[0]!, writeChunk(0n, evil, commitment), 1n)).toBe('success')
    expect(await read<bigint>(address, abi, 'version')).toBe(2n)
    expect(await read<Hex>(address, abi, 'commitment')).toBe(commitment)
    try {
      const r = await verify(p.config)
      expect(r.code).toBe(1)
      expect(r.json.onchain).toBe(r.json.local)
      expect(r.lines).toEqual([expect.stringMatching(/^ml2sc: verify failed: the kernel contract at 0x[0-9a-fA-F]{40} is not ml2sc's kernel/)])
      // its commitment is these weights': `ml2sc update` of them sends their kernel all the same
      const u = await runCliInProcess(['update', p.config, '--yes'], { env: env() })
      expect(u.code).toBe(0)
      expect(u.stderr + u.stdout).toContain('it is sent again')
      expect((await verify(p.config)).json).toMatchObject({ verified: true, version: 3 })
      const again = await runCliInProcess(['update', p.config, '--yes'], { env: env() })
      expect(again.stderr + again.stdout).toContain('nothing to send')
      expect(await send(remote.keys[0]!, writeChunk(0n, evil, commitment))).toBe('success')
      expect((await verify(p.config)).code).toBe(1)
      // predict now runs the foreign code: it sends the model's wei away, the balance is 0 again (the update
      // mark undone), predict answers from the initial kernel, but the state word still names the foreign one
      const info = await read<bigint[]>(address, abi, 'info')
      expect(await send(remote.keys[2]!, encodeFunctionData({ abi, functionName: 'predictBatch', args: [toHex(new Uint8Array(Number(info[3])))] }))).toBe('success')
      expect(await client().getBalance({ address })).toBe(0n)
      expect(await slot2(address)).not.toBe(0n)
      const drained = await verify(p.config)
      expect(drained.code).toBe(1)
      expect(drained.lines).toEqual([expect.stringMatching(/^ml2sc: verify failed: state word \(slot 2\) is 0x[0-9a-f]{64} while the balance is 0/)])
      // predict answers these weights from the code now, but 1 wei forced in by anyone runs the foreign kernel
      // again: `ml2sc update` of them installs their kernel (with the mark)
      const repair = await runCliInProcess(['update', p.config, '--yes'], { env: env() })
      expect(repair.stderr + repair.stdout).toContain('it is sent again')
      expect((await verify(p.config)).json).toMatchObject({ verified: true, balance: '1' })
    } finally {
      await setSlot(address, 2, 0n)
      await setBalance(address, 0n)
    }
    expect((await verify(p.config)).lines).toEqual([])
  })

  test('after a genuine update: a kernel with a tail is refused, the same bytes made by someone else pass; ownership moves, bad writes revert, the kernel stays named', async () => {
    const [before] = await predictBoth()
    const w = readJson(p.weights)
    w['fc1.weight'][0][1] += 0.07
    writeFileSync(p.weights, JSON.stringify(w))
    const u = await runCliInProcess(['update', p.config, '--yes'], { env: env() })
    expect(u.code).toBe(0)
    const ok = await verify(p.config)
    expect(ok.lines).toEqual([])
    // predict on chain (through the kernel contract) and off chain agree on the new weights, and differ from the old
    const [on, off] = await predictBoth()
    expect(on).toEqual(off)
    expect(on).not.toEqual(before)
    const kernel = ok.json.chunks[0] as Hex
    const genuine = (await client().getCode({ address: kernel }))!
    const st = await slot2(address)
    try {
      await setCode(kernel, `${genuine}00`)
      const tail = await verify(p.config)
      expect(tail.code).toBe(1)
      expect(tail.lines[0]).toMatch(/^ml2sc: verify failed: (the kernel contract at|commitment differs)/)
    } finally {
      await setCode(kernel, genuine)
    }
    // the genuine bytes created by a third party (a plain creation code), named by the state word: the same code, the same answers
    const copy = await deployAs(remote.keys[3]!, `0x61${((genuine.length - 2) / 2).toString(16).padStart(4, '0')}80600a3d393df3${genuine.slice(2)}` as Hex)
    try {
      await setSlot(address, 2, (st >> 160n << 160n) | BigInt(copy))
      const r = await verify(p.config)
      expect(r.lines).toEqual([])
      expect((r.json.chunks as Hex[]).map((c) => c.toLowerCase())).toEqual([copy.toLowerCase()])
    } finally {
      await setSlot(address, 2, st)
    }

    // the bytes verify lets differ once updated (the initial commitment word, PUSH32 data): changed, nothing predict
    // or the getters read changes, and no opcode appears
    const code = (await client().getCode({ address }))!
    const word = opcodesOf(code).find((o) => o.op === 0x7f && o.arg === BigInt(commitmentWord(initial).word))!
    expect(word.at).toBeLessThan(forwardPrefixEnd(code)!)
    const dead = toHex(Buffer.from(code.slice(2), 'hex').fill(0x5b, word.at + 1, word.at + 33))
    try {
      await setCode(address, dead)
      const r = await verify(p.config)
      expect(r.lines).toEqual([])
      expect(r.json.onchain).toBe(ok.json.onchain)
    } finally {
      await setCode(address, code)
    }

    const { upload, commitment } = await localModel(await loadConfig(p.config))
    const payload = toHex(upload.data)
    const [a0, a1] = remote.accounts
    await wallet(remote.keys[0]!).writeContract({ address, abi, functionName: 'transferOwnership', args: [a1], chain: null })
    await rpc('anvil_mine', [])
    expect(await send(remote.keys[1]!, encodeFunctionData({ abi, functionName: 'acceptOwnership' }))).toBe('success')
    expect(await slot2(address)).toBe(st)
    expect((await verify(p.config, '--owner', a1!)).lines).toEqual([])
    expect(await errorOf(chunkAs(remote.keys[0]!, [0n, payload, commitment]))).toMatch(/NotOwner/)
    // the new owner: a tail that is not the blob it names, a chunk past the one there is, wei with an update: all revert
    expect(await errorOf(chunkAs(remote.keys[1]!, [0n, flip(payload, upload.data.length - 1), commitment]))).toMatch(/CommitmentMismatch/)
    expect(await errorOf(chunkAs(remote.keys[1]!, [1n, payload, commitment]))).toMatch(/ChunkOutOfOrder/)
    expect(await errorOf(chunkAs(remote.keys[1]!, [0n, payload, commitment], 1n))).toMatch(/UnexpectedValue/)
    expect(await slot2(address)).toBe(st)
    expect(a0).not.toBe(a1)
  })
})

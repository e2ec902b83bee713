// `ml2sc verify` on the weight layouts other than the data contracts (verify-forgeries.test.ts has those and
// the forgeries): the code layout (the weights are PUSH32 constants), packed storage slots, and embedded
// weights after an update. Its own remote anvil, so that it runs beside verify-forgeries.
import { beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { toHex, type Hex } from 'viem'
import { STORAGE_BASE } from '../../src/codegen/admin/adminLibrary.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { randomProject, type RemoteAnvil } from './helpers.ts'
import { chainYaml, client, node, readJson, setCode, useVerifyChain, verify } from './verifyChain.ts'

setDefaultTimeout(900_000)
useVerifyChain()
let remote: RemoteAnvil
let publisher: Hex
beforeAll(() => {
  remote = node.remote
  publisher = remote.accounts[0]!
})

describe('every layout', () => {
  // code: the weights are PUSH32 constants (no chunks, chunksWritten stays 0); storage: packed slots; small:
  // weights embedded in the code, then updated (the embedded bytes are dead, the data contracts count)
  let code: ReturnType<typeof randomProject>
  let storage: ReturnType<typeof randomProject>
  let small: ReturnType<typeof randomProject>
  beforeAll(async () => {
    code = randomProject({ sizes: [8, 12, 2], rows: 4, seed: 21, yaml: `weights:\n  layout: code\n${chainYaml()}` })
    storage = randomProject({ sizes: [8, 12, 2], rows: 4, seed: 22, yaml: `weights:\n  layout: storage\n${chainYaml()}` })
    small = randomProject({ sizes: [8, 12, 2], rows: 4, seed: 23, yaml: chainYaml() })
    for (const p of [code, storage, small]) {
      const r = await runCliInProcess(['run', p.config, '--yes'], { env: { ML2SC_PRIVATE_KEY: remote.keys[0]! } })
      if (r.code !== 0) throw new Error(`ml2sc run failed: ${r.stderr}`)
    }
  }, 900_000)

  test('code layout (the weights are PUSH32 constants in the code): the genuine contract passes; one byte changed in its code does not', async () => {
    const ok = await verify(code.config, '--owner', publisher)
    expect(ok.lines).toEqual([])
    expect(ok.code).toBe(0)
    expect(ok.json.chunks).toEqual([])
    const dep = readJson(path.join(code.out, 'deployment.json'))
    const original = (await client().getCode({ address: dep.address }))!
    const at = Math.floor((original.length - 2) / 4)
    const bytes = Buffer.from(original.slice(2), 'hex')
    bytes[at] = bytes[at]! ^ 0x01
    await setCode(dep.address, toHex(bytes))
    try {
      const r = await verify(code.config)
      expect(r.code).toBe(1)
      expect(r.lines).toEqual([expect.stringMatching(new RegExp(`^ml2sc: verify failed: code differs at byte ${at}: `))])
    } finally {
      await setCode(dep.address, original)
    }
  })

  test('update refuses new weights the deployed code cannot take (code layout: the weights are the code); nothing sent', async () => {
    const w = readJson(code.weights)
    w['fc1.weight'][0][0] += 0.1
    writeFileSync(code.weights, JSON.stringify(w))
    const block = await client().getBlockNumber()
    const r = await runCliInProcess(['update', code.config, '--yes'], { env: { ML2SC_PRIVATE_KEY: remote.keys[0]! } })
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/the new weights need a different contract than the one at 0x[0-9a-fA-F]{40}/)
    expect(await client().getBlockNumber()).toBe(block)
  })

  test('storage layout: the genuine contract passes; a weight slot written behind its back: commitment differs', async () => {
    const ok = await verify(storage.config, '--owner', publisher)
    expect(ok.lines).toEqual([])
    expect(ok.code).toBe(0)
    const dep = readJson(path.join(storage.out, 'deployment.json'))
    const slot = toHex(STORAGE_BASE + 1, { size: 32 })
    const before = await client().getStorageAt({ address: dep.address, slot })
    await client().request({ method: 'anvil_setStorageAt' as 'eth_chainId', params: [dep.address, slot, toHex(BigInt(before!) ^ 1n, { size: 32 })] as never })
    try {
      const r = await verify(storage.config)
      expect(r.code).toBe(1)
      expect(r.lines).toEqual([expect.stringMatching(/^ml2sc: verify failed: commitment differs: on chain 0x[0-9a-f]{64} \(version 1\), local /)])
    } finally {
      await client().request({ method: 'anvil_setStorageAt' as 'eth_chainId', params: [dep.address, slot, before] as never })
    }
  })

  test('embedded weights, then `ml2sc update`: the dead embedded bytes may differ, the data contracts must hold the new weights', async () => {
    expect(readJson(path.join(small.out, 'deployment.json')).chunks ?? []).toEqual([])
    const w = readJson(small.weights)
    w['fc1.weight'][1][2] += 0.05
    writeFileSync(small.weights, JSON.stringify(w))
    const v1 = await client().getBlockNumber({ cacheTime: 0 })
    const u = await runCliInProcess(['update', small.config, '--yes'], { env: { ML2SC_PRIVATE_KEY: remote.keys[0]! } })
    expect(u.code).toBe(0)
    const r = await verify(small.config, '--owner', publisher)
    expect(r.lines).toEqual([])
    expect(r.code).toBe(0)
    expect(r.json.version).toBe(2)
    expect(r.json.chunks.length).toBeGreaterThan(0)
    // the model file of version 1 again: its weights are only in the dead embedded bytes now
    w['fc1.weight'][1][2] -= 0.05
    writeFileSync(small.weights, JSON.stringify(w))
    const old = await verify(small.config)
    expect(old.code).toBe(1)
    expect(old.lines).toEqual([expect.stringMatching(/^ml2sc: verify failed: commitment differs: on chain 0x[0-9a-f]{64} \(version 2\), local /)])
    // ... which the chain held at the block before the update: --block reads that state, every read at it
    const then = await verify(small.config, '--block', String(v1), '--owner', publisher)
    expect(then.lines).toEqual([])
    expect(then.code).toBe(0)
    expect(then.json).toMatchObject({ verified: true, version: 1, block: Number(v1) })
    const bad = await verify(small.config, '--block', 'latest-ish')
    expect(bad.code).not.toBe(0)
    expect(bad.lines).toEqual(["ml2sc: error: --block: 'latest-ish' is not a block number (hint: give a decimal block number, e.g. --block 1234 (default: the chain's head))"])
    const future = await verify(small.config, '--block', '99999999')
    expect(future.code).not.toBe(0)
    expect(future.lines[0]).toMatch(/^ml2sc: error: --block: block 99999999 is beyond the chain's head \(block \d+\) on chain \d+/)
  })
})

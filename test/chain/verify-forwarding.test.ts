// `ml2sc verify` and `ml2sc update` on a forwarding model (forwardingModel.ts: a small dense model's embedded
// weights as PUSH-constant lane words; an update installs a kernel contract that predict DELEGATECALLs),
// against forgeries on a "remote" anvil. Verify proves everything predict reads: with a balance of 0 the whole
// code; once updated, the code the model still runs (everything before its initial kernel), the pointer in
// its state word and the kernel contract there, byte for byte against a fresh compile for the config's weights.
import { beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { toHex, type Abi, type Hex } from 'viem'
import { forwardPrefixEnd } from '../../src/codegen/forwarding/forwardingModel.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { localModel } from '../../src/commands/update.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { randomProject, type RemoteAnvil } from './helpers.ts'
import { chainYaml, client, deployAs, node, read, readJson, setCode, setSlot, slot2, useVerifyChain, verify } from './verifyChain.ts'

setDefaultTimeout(900_000)
useVerifyChain()
let remote: RemoteAnvil
let p: ReturnType<typeof randomProject>
let address: Hex
let abi: Abi
let sol: string
const env = () => ({ ML2SC_PRIVATE_KEY: remote.keys[0]! })
const nudge = (d: number) => {
  const w = readJson(p.weights)
  w['fc1.weight'][1][2] += d
  writeFileSync(p.weights, JSON.stringify(w))
}

beforeAll(async () => {
  remote = node.remote
  p = randomProject({ sizes: [8, 12, 2], rows: 4, seed: 31, yaml: chainYaml() })
  const r = await runCliInProcess(['run', p.config, '--yes'], { env: env() })
  if (r.code !== 0) throw new Error(`ml2sc run failed: ${r.stderr}`)
  const dep = readJson(path.join(p.out, 'deployment.json'))
  address = dep.address
  abi = dep.abi
  sol = readFileSync(path.join(p.out, `${dep.contractName}.sol`), 'utf8')
}, 900_000)

describe('a forwarding model', () => {
  test('is the default here: no blob in its code, the forward before its kernel; the genuine contract passes', async () => {
    expect(sol).toContain('delegatecall(gas(), st, 0, calldatasize(), 0, 0)')
    expect(sol).not.toContain('WEIGHTS')
    expect(forwardPrefixEnd((await client().getCode({ address }))!)).toBeGreaterThan(0)
    const r = await verify(p.config)
    expect(r.lines).toEqual([])
    expect(r.json).toMatchObject({ verified: true, version: 1, balance: '0' })
  })

  test("ml2sc's own .sol with one lane-word constant of its kernel changed: the commitment it hands over is genuine, verify is not fooled", async () => {
    // the kernel comes after the forward; its lane words are long hex literals
    const kernelAt = sol.indexOf('if selfbalance()')
    const m = /0x[0-9a-f]{24,}/.exec(sol.slice(kernelAt + 600))!
    const at = kernelAt + 600 + m.index + m[0].length - 1
    const forged = sol.slice(0, at) + (sol[at] === '1' ? '2' : '1') + sol.slice(at + 1)
    const name = readJson(path.join(p.out, 'deployment.json')).contractName
    const c = compileSolidity(forged, name, { hardfork: (await loadConfig(p.config)).chain.hardfork })
    const a = await deployAs(remote.keys[1]!, c.bytecode)
    expect(await read<Hex>(a, abi, 'commitment')).toBe(readJson(path.join(p.out, 'deployment.json')).commitment)
    const r = await verify(p.config, '--address', a)
    expect(r.code).toBe(1)
    expect(r.lines).toEqual([expect.stringMatching(/^ml2sc: verify failed: code differs at byte \d+: the contract at 0x[0-9a-fA-F]{40} is not what .*ml2sc\.yaml compiles to \(\d+ bytes on chain, \d+ compiled\)/)])
  })

  test('`ml2sc update` installs a kernel contract; verify then checks the model\'s prefix, the pointer and the kernel; forgeries of each fail', async () => {
    nudge(0.05)
    const u = await runCliInProcess(['update', p.config, '--yes'], { env: env() })
    expect(u.code).toBe(0)
    expect(u.stderr + u.stdout).toContain('a kernel contract for the new weights')
    const ok = await verify(p.config, '--owner', remote.accounts[0]!)
    expect(ok.lines).toEqual([])
    expect(ok.json).toMatchObject({ verified: true, version: 2, balance: '1' })
    const kernel = ok.json.chunks[0] as Hex
    const genuine = (await client().getCode({ address: kernel }))!
    const { upload, blob } = await localModel(await loadConfig(p.config))
    expect(genuine).toBe(toHex(upload.data))
    const blobHex = toHex(blob).slice(2)

    // forged weights: the kernel compiled for other weights, followed by the genuine blob (so the commitment,
    // hashed from the kernel's tail, still matches)
    nudge(0.3)
    const other = toHex((await localModel(await loadConfig(p.config))).upload.data)
    nudge(-0.3)
    const forgedKernel = `${other.slice(0, other.length - blobHex.length)}${blobHex}` as Hex
    // foreign code at the pointer: a plain data contract of the blob (STOP ++ blob), and a kernel whose code can run anything
    const foreign: Hex[] = [forgedKernel, `0x00${blobHex}`, `0x3360005260206000f3${blobHex}`]
    try {
      for (const code of foreign) {
        await setCode(kernel, code)
        const r = await verify(p.config)
        expect(r.code).toBe(1)
        expect(r.json.onchain).toBe(r.json.local)
        expect(r.lines).toEqual([expect.stringMatching(new RegExp(`^ml2sc: verify failed: the kernel contract at ${kernel} is not ml2sc's kernel for .*weights\\.json's weights`))])
      }
    } finally {
      await setCode(kernel, genuine)
    }

    // a wrong pointer: the state word names another contract, a genuine kernel of other weights
    const st = await slot2(address)
    nudge(0.3)
    const elsewhere = await deployAs(remote.keys[1]!, `0x61${(other.length / 2 - 1).toString(16).padStart(4, '0')}80600a3d393df3${other.slice(2)}` as Hex)
    nudge(-0.3)
    expect((await client().getCode({ address: elsewhere }))!).toBe(other)
    try {
      await setSlot(address, 2, (st >> 160n << 160n) | BigInt(elsewhere))
      const r = await verify(p.config)
      expect(r.code).toBe(1)
      expect(r.lines).toEqual([expect.stringMatching(/^ml2sc: verify failed: commitment differs: on chain 0x[0-9a-f]{64} \(version 2\)/)])
    } finally {
      await setSlot(address, 2, st)
    }

    // the model's own code: a byte changed in what it runs once updated (the admin library's address) fails;
    // its initial kernel is dead once a kernel is named and the balance is not 0 (neither ever goes back)
    const code = (await client().getCode({ address }))!
    const end = forwardPrefixEnd(code)!
    const admin = code.indexOf(ok.json.adminLibrary.slice(2).toLowerCase())
    expect(admin).toBeGreaterThan(0)
    expect((admin - 2) / 2).toBeLessThan(end)
    const flip = (h: Hex, byte: number): Hex => {
      const b = Buffer.from(h.slice(2), 'hex')
      b[byte] = b[byte]! ^ 0x01
      return toHex(b)
    }
    try {
      await setCode(address, flip(code, (admin - 2) / 2 + 19))
      const r = await verify(p.config)
      expect(r.code).toBe(1)
      expect(r.lines[0]).toMatch(/^ml2sc: verify failed: code differs at byte \d+: the contract at/)
      await setCode(address, flip(code, end + 40))
      const dead = await verify(p.config)
      expect(dead.lines).toEqual([])
      expect(dead.code).toBe(0)
    } finally {
      await setCode(address, code)
    }
    // the weights of version 1 again: the chain holds other weights now; at the block before the update it held these
    nudge(-0.05)
    const old = await verify(p.config)
    expect(old.code).toBe(1)
    expect(old.lines).toEqual([expect.stringMatching(/^ml2sc: verify failed: commitment differs: on chain 0x[0-9a-f]{64} \(version 2\), local /)])
  })
})

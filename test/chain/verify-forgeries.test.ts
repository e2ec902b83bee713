// `ml2sc verify` as an outside party runs it, against forgeries deployed on a "remote" anvil: each must
// end with exit 1 and one line saying what differs; the genuine deployment passes by --address alone,
// with no deployment.json, no key, and no transaction. The code and storage layouts: verify-layouts.test.ts.
import { beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { toHex, type Abi, type Hex } from 'viem'
import { adminLibrary, adminLibrarySolidity, compileAdminLibrary } from '../../src/codegen/admin/adminLibrary.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { zeroImmutables } from '../../src/compile/runtimeCodeHash.ts'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { localModel } from '../../src/commands/update.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { bcProject } from '../commands/helpers.ts'
import { randomProject, type RemoteAnvil } from './helpers.ts'
import { CHAIN_ID, chainYaml, client, deployAs, node, read, readJson, sendAs, setCode, thirdParty, useVerifyChain, verify } from './verifyChain.ts'

setDefaultTimeout(900_000)
useVerifyChain()
let remote: RemoteAnvil
let publisher: Hex
let attacker: Hex
let attackerKey: Hex
// A: breast cancer 30-8-1, weights embedded in the contract's code (a forwarding model: PUSH-constant lane words); B: 32-160-4, int24 weights (too big to embed) in data contracts of 4 KB
let A: { config: string; out: string; address: Hex; abi: Abi; sol: string; bytecode: Hex; commitment: Hex }
let B: ReturnType<typeof randomProject> & { address: Hex; abi: Abi; bytecode: Hex; chunks: number }

beforeAll(async () => {
  remote = node.remote
  publisher = remote.accounts[0]!
  attacker = remote.accounts[1]!
  attackerKey = remote.keys[1]!
  const env = { ML2SC_PRIVATE_KEY: remote.keys[0]! }
  const a = bcProject(chainYaml())
  const b = randomProject({ sizes: [32, 160, 4], rows: 6, seed: 7, yaml: `precision:\n  weights: int24\nbatch:\n  upload: 4096\n${chainYaml()}` })
  for (const config of [a, b.config]) {
    const r = await runCliInProcess(['run', config, '--yes'], { env })
    if (r.code !== 0) throw new Error(`ml2sc run failed: ${r.stderr}`)
  }
  const outA = path.join(path.dirname(a), 'out')
  const depA = readJson(path.join(outA, 'deployment.json'))
  const artA = readJson(path.join(outA, `${depA.contractName}.json`))
  A = { config: a, out: outA, address: depA.address, abi: depA.abi, sol: readFileSync(path.join(outA, `${depA.contractName}.sol`), 'utf8'), bytecode: artA.bytecode, commitment: depA.commitment }
  const depB = readJson(path.join(b.out, 'deployment.json'))
  const artB = readJson(path.join(b.out, `${depB.contractName}.json`))
  B = { ...b, address: depB.address, abi: depB.abi, bytecode: artB.bytecode, chunks: readJson(path.join(b.out, 'plan.json')).weights.chunks.length }
}, 900_000)
describe('the genuine deployment', () => {
  test('passes by --address and --rpc from the model file and config alone: no deployment.json, no key, no transaction', async () => {
    expect(process.env.ML2SC_PRIVATE_KEY).toBeUndefined()
    const config = thirdParty(A.config, ['model.onnx', 'test.csv', 'reference.csv'])
    const block = await client().getBlockNumber()
    const r = await verify(config, '--address', A.address, '--rpc', remote.url)
    expect(r.lines).toEqual([])
    expect(r.code).toBe(0)
    expect(r.json).toMatchObject({ verified: true, chainId: CHAIN_ID, version: 1, ready: true, local: A.commitment, onchain: A.commitment, owner: publisher })
    expect(await client().getBlockNumber()).toBe(block)
    // the human form names the owner, so that a third party sees who can re-weight it
    const h = await runCliInProcess(['verify', config, '--address', A.address, '--rpc', remote.url])
    expect(h.code).toBe(0)
    expect(h.stderr).toMatch(new RegExp(`verified: the contract at ${A.address} on chain ${CHAIN_ID} holds .*model\\.onnx`, 'i'))
    expect(h.stderr).toContain(`owner ${publisher}`)
  })

  test('without the data files that precision auto chose its widths from: the hint says so', async () => {
    const config = thirdParty(A.config, ['model.onnx'])
    const r = await verify(config, '--address', A.address, '--rpc', remote.url)
    expect(r.code).toBe(1)
    expect(r.lines).toEqual([expect.stringMatching(/^ml2sc: verify failed: code differs at byte \d+: .*\(hint: precision auto picks its widths from the test rows and PyTorch's outputs \(data\.test, data\.reference\), and some are missing here/)])
  })

  test("without the data files but with the publisher's plan.json: verified; plan.json's widths are proven by the code, its weights never read", async () => {
    const config = thirdParty(A.config, ['model.onnx'])
    const out = path.join(path.dirname(config), 'out')
    mkdirSync(out)
    const plan = readJson(path.join(A.out, 'plan.json'))
    // a plan.json whose weights were tampered with: verify quantises the model file's own weights at its scales
    plan.plan.layers[0].weights[0][0] = String(BigInt(plan.plan.layers[0].weights[0][0]) + 7n)
    writeFileSync(path.join(out, 'plan.json'), JSON.stringify(plan))
    const r = await verify(config, '--address', A.address, '--rpc', remote.url)
    expect(r.lines).toEqual([])
    expect(r.json).toMatchObject({ verified: true, local: A.commitment, onchain: A.commitment })
    // its widths are only a claim: other ones compile to other code, and verify says so
    plan.plan.outputBytes += 1
    writeFileSync(path.join(out, 'plan.json'), JSON.stringify(plan))
    const w = await verify(config, '--address', A.address, '--rpc', remote.url)
    expect(w.code).toBe(1)
    expect(w.json).toMatchObject({ verified: false, check: 'code' })
  })

  test('data contracts: the genuine B passes, --owner the publisher included', async () => {
    const r = await verify(B.config, '--owner', publisher)
    expect(r.lines).toEqual([])
    expect(r.code).toBe(0)
    expect(r.json.chunks).toHaveLength(B.chunks)
    expect(B.chunks).toBeGreaterThanOrEqual(3)
  })
})

describe('forgeries: exit 1, one line saying what differs', () => {
  test("ml2sc's own .sol with one bit of the commitment it hands over changed: commitment() lies, verify's code comparison exposes it", async () => {
    // A is a forwarding model (forwardingModel.ts): PUSH-constant lane words, the commitment a constant (top bit set, shifted right by one)
    const m = /mstore\(add\(n, 32\), 0x([0-9a-f]{64})\)/.exec(A.sol)!
    const at = m.index + m[0].length - 2
    const forged = A.sol.slice(0, at) + (A.sol[at] === 'f' ? '0' : 'f') + A.sol.slice(at + 1)
    const c = compileSolidity(forged, 'Ml2sc_model', { hardfork: (await loadConfig(A.config)).chain.hardfork })
    const address = await deployAs(attackerKey, c.bytecode)
    expect(await read<Hex>(address, A.abi, 'commitment')).not.toBe(A.commitment)
    const r = await verify(A.config, '--address', address)
    expect(r.code).toBe(1)
    expect(r.lines).toHaveLength(1)
    expect(r.lines[0]).toMatch(/^ml2sc: verify failed: code differs at byte \d+: the contract at 0x[0-9a-fA-F]{40} is not what .*ml2sc\.yaml compiles to \(\d+ bytes on chain, \d+ compiled\)/)
    expect(r.json).toMatchObject({ verified: false, check: 'code' })
  })

  test('a contract that is not ml2sc code but answers every getter verify reads as the genuine one does', async () => {
    const info = await read<readonly bigint[]>(A.address, A.abi, 'info')
    const impostor = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;
contract Impostor {
    function commitment() external pure returns (bytes32) { return ${A.commitment}; }
    function version() external pure returns (uint64) { return 1; }
    function ready() external pure returns (bool) { return true; }
    function chunksWritten() external pure returns (uint256) { return ${await read<bigint>(A.address, A.abi, 'chunksWritten')}; }
    function chunkAddress(uint256) external pure returns (address) { return address(0); }
    function info() external pure returns (uint256, uint256, uint256, uint256, uint256, uint256) { return (${info.join(', ')}); }
    function owner() external pure returns (address) { return ${publisher}; }
    function pendingOwner() external pure returns (address) { return address(0); }
    function predict(bytes calldata) external pure returns (int256[] memory o) { o = new int256[](1); o[0] = 1; }
}
`
    const c = compileSolidity(impostor, 'Impostor')
    const address = await deployAs(attackerKey, c.bytecode)
    for (const f of ['commitment', 'version', 'ready', 'chunksWritten', 'info', 'owner', 'pendingOwner']) expect(await read(address, A.abi, f)).toEqual(await read(A.address, A.abi, f))
    const r = await verify(A.config, '--address', address)
    expect(r.code).toBe(1)
    expect(r.lines).toHaveLength(1)
    expect(r.lines[0]).toMatch(new RegExp(`^ml2sc: verify failed: code differs at byte \\d+: the contract at ${address} is not what .*ml2sc\\.yaml compiles to \\(\\d+ bytes on chain, \\d+ compiled\\)`, 'i'))
    expect(r.json.check).toBe('code')
  })

  test("a genuine contract owned by the attacker: verify shows the owner; --owner <expected> refuses it", async () => {
    const address = await deployAs(attackerKey, A.bytecode)
    const open = await verify(A.config, '--address', address)
    expect(open.code).toBe(0)
    expect(open.json.owner).toBe(attacker)
    const r = await verify(A.config, '--address', address, '--owner', publisher)
    expect(r.code).toBe(1)
    expect(r.lines).toEqual([expect.stringMatching(new RegExp(`^ml2sc: verify failed: owner is ${attacker}, expected ${publisher} \\(hint: `))])
    expect(r.json).toMatchObject({ verified: false, check: 'owner', owner: attacker, expectedOwner: publisher })
  })

  test('the genuine runtime code put there by a forged creation code that also wrote the owner slot', async () => {
    const runtime = (await client().getCode({ address: A.address }))!.slice(2)
    const len = runtime.length / 2
    // PUSH20 attacker PUSH1 0 SSTORE; PUSH2 len DUP1 PUSH1 36 PUSH1 0 CODECOPY PUSH1 0 RETURN; runtime
    const initcode = `0x73${attacker.slice(2).toLowerCase()}60005561${len.toString(16).padStart(4, '0')}8060246000396000f3${runtime}`
    expect((initcode.length - 2) / 2 - len).toBe(36)
    const address = await deployAs(attackerKey, initcode as Hex)
    expect(await client().getCode({ address })).toBe(`0x${runtime}`)
    // the code, the library, the weights: all genuine, so only the owner tells
    const open = await verify(A.config, '--address', address)
    expect(open.code).toBe(0)
    expect(open.json.owner).toBe(attacker)
    const r = await verify(A.config, '--address', address, '--owner', publisher)
    expect(r.code).toBe(1)
    expect(r.lines).toEqual([expect.stringMatching(new RegExp(`^ml2sc: verify failed: owner is ${attacker}, expected ${publisher}`))])
  })

  test("chain.owner in the config: a genuine copy deployed for another owner fails on its initial-owner immutable, without --owner", async () => {
    const address = await deployAs(attackerKey, A.bytecode)
    const config = thirdParty(A.config, ['model.onnx', 'test.csv', 'reference.csv'])
    writeFileSync(config, readFileSync(config, 'utf8') + `chain:\n  owner: '${publisher}'\n`)
    const genuine = await verify(config, "--address", A.address, "--rpc", remote.url)
    expect(genuine.stderr).toBe("")
    expect(genuine.code).toBe(0)
    const r = await verify(config, '--address', address, '--rpc', remote.url)
    expect(r.code).toBe(1)
    expect(r.lines).toEqual([expect.stringMatching(new RegExp(`^ml2sc: verify failed: initial owner is ${attacker}, expected ${publisher} \\(chain\\.owner\\)`))])
  })

  test('a genuine model whose admin-library address points at a forged library (owner check removed): code differs', async () => {
    const lib = adminLibrary()
    const forgedLib = compileAdminLibrary(adminLibrarySolidity().replace(/function onlyOwner\(\) \{[^\n]*\}/, 'function onlyOwner() { }'))
    expect(forgedLib.deployedBytecode).not.toBe(lib.runtime)
    const libAddress = await deployAs(attackerKey, forgedLib.bytecode)
    const sol = A.sol.split(lib.address).join(libAddress.toLowerCase())
    expect(sol).not.toBe(A.sol)
    const address = await deployAs(attackerKey, compileSolidity(sol, 'Ml2sc_model', { hardfork: (await loadConfig(A.config)).chain.hardfork }).bytecode)
    expect(await read<Hex>(address, A.abi, 'commitment')).toBe(A.commitment)
    const r = await verify(A.config, '--address', address)
    expect(r.code).toBe(1)
    expect(r.lines[0]).toMatch(/^ml2sc: verify failed: code differs at byte \d+: /)
  })

  test('the genuine model, but the code at the admin library address is not ml2sc\'s library', async () => {
    const lib = adminLibrary()
    const original = (await client().getCode({ address: lib.address }))!
    const forgedLib = compileAdminLibrary(adminLibrarySolidity().replace(/function onlyOwner\(\) \{[^\n]*\}/, 'function onlyOwner() { }'))
    await setCode(lib.address, forgedLib.deployedBytecode)
    try {
      // the forgery is real: anyone can now re-weight the genuine model
      expect(await read<Hex>(A.address, A.abi, 'commitment')).toBe(A.commitment)
      const r = await verify(A.config, '--address', A.address)
      expect(r.code).toBe(1)
      expect(r.lines).toEqual([expect.stringMatching(new RegExp(`^ml2sc: verify failed: admin library differs at byte \\d+: the code at ${lib.address} is not ml2sc's admin library`))])
      expect(r.json.check).toBe('adminLibrary')
    } finally {
      await setCode(lib.address, original)
    }
    expect((await verify(A.config, '--address', A.address)).code).toBe(0)
  })

  test('a data contract whose code can run (0xff, SELFDESTRUCT, instead of the STOP byte): the commitment still matches, the chunk does not', async () => {
    const chunk = await read<Hex>(B.address, B.abi, 'chunkAddress', [1n])
    const original = (await client().getCode({ address: chunk }))!
    await setCode(chunk, `0xff${original.slice(4)}`)
    try {
      const r = await verify(B.config)
      expect(r.json.onchain).toBe(r.json.local)
      expect(r.code).toBe(1)
      expect(r.lines).toEqual([expect.stringMatching(new RegExp(`^ml2sc: verify failed: chunk 2 of ${B.chunks} differs: the code of the data contract at ${chunk} is not STOP \\+\\+ bytes 4096…8192 of`))])
    } finally {
      await setCode(chunk, original)
    }
  })

  test('a data contract swapped for other weights: commitment differs, and which chunk', async () => {
    const chunk = await read<Hex>(B.address, B.abi, 'chunkAddress', [2n])
    const original = (await client().getCode({ address: chunk }))!
    const bytes = Buffer.from(original.slice(2), 'hex')
    bytes[10] = bytes[10]! ^ 0x40
    await setCode(chunk, toHex(bytes))
    try {
      const r = await verify(B.config)
      expect(r.code).toBe(1)
      expect(r.lines).toEqual([expect.stringMatching(new RegExp(`^ml2sc: verify failed: commitment differs: on chain 0x[0-9a-f]{64} \\(version 1\\), local 0x[0-9a-f]{64} \\(.*weights\\.json\\); chunk 3 of ${B.chunks} differs first`))])
    } finally {
      await setCode(chunk, original)
    }
  })

  test('a genuine contract with half its upload: upload incomplete', async () => {
    const address = await deployAs(attackerKey, B.bytecode)
    const { blob, sizes, commitment } = await localModel(await loadConfig(B.config))
    await sendAs(attackerKey, address, B.abi, 'writeChunk', [0n, toHex(blob.subarray(0, sizes[0]!)), commitment])
    const r = await verify(B.config, '--address', address)
    expect(r.code).toBe(1)
    expect(r.lines).toEqual([expect.stringMatching(new RegExp(`^ml2sc: verify failed: upload incomplete: 1 of ${B.chunks} chunk\\(s\\) written to ${address}`, 'i'))])
    expect(r.json).toMatchObject({ check: 'upload', ready: false })
  })
})

describe('source verification the ecosystem way', () => {
  /** solc-js on a standard-JSON input file, nothing else: the runtime code with its immutables zeroed. */
  function rebuild(file: string, contract: string) {
    const solc = require('solc') as { compile(input: string): string; version(): string }
    const out = JSON.parse(solc.compile(readFileSync(file, 'utf8')))
    const [source, name] = contract.split(':') as [string, string]
    const c = out.contracts[source][name].evm.deployedBytecode
    return { runtime: `0x${c.object}` as Hex, immutables: Object.values(c.immutableReferences ?? {}).flat() as { start: number; length: number }[], version: solc.version() }
  }

  test('compile writes the solc standard-JSON input; solc-js rebuilds the deployed code from it alone', async () => {
    const artifact = readJson(path.join(A.out, 'Ml2sc_model.json'))
    expect(artifact.solcVersion).toMatch(/^0\.8\.\d+\+commit\.[0-9a-f]{8}/)
    expect(artifact.standardJson).toEqual({ file: 'Ml2sc_model.input.json', contract: 'Ml2sc_model.sol:Ml2sc_model' })
    const model = rebuild(path.join(A.out, artifact.standardJson.file), artifact.standardJson.contract)
    expect(model.version).toBe(artifact.solcVersion)
    expect(model.immutables.length).toBeGreaterThan(0)
    expect(zeroImmutables((await client().getCode({ address: A.address }))!, model.immutables)).toBe(model.runtime)
    // the admin library the model DELEGATECALLs, the same way
    expect(artifact.adminLibrary.address).toBe(adminLibrary().address)
    const lib = rebuild(path.join(A.out, artifact.adminLibrary.standardJson.file), artifact.adminLibrary.standardJson.contract)
    expect(zeroImmutables((await client().getCode({ address: artifact.adminLibrary.address }))!, lib.immutables)).toBe(lib.runtime)
  })
})

describe("the chain's word, never deployment.json's", () => {
  test("deployment.json's commitment edited: verify still reads the chain's (exit 0 for the genuine weights)", async () => {
    const file = path.join(B.out, 'deployment.json')
    const dep = readJson(file)
    writeFileSync(file, JSON.stringify({ ...dep, commitment: `0x${'11'.repeat(32)}` }))
    const r = await verify(B.config)
    expect(r.code).toBe(0)
    expect(r.json.onchain).toBe(dep.commitment)
  })

  test("a changed model file and deployment.json's commitment set to match it: commitment differs", async () => {
    const w = readJson(B.weights)
    w['fc1.weight'][3][5] += 0.05
    writeFileSync(B.weights, JSON.stringify(w))
    const { commitment } = await localModel(await loadConfig(B.config))
    const file = path.join(B.out, 'deployment.json')
    writeFileSync(file, JSON.stringify({ ...readJson(file), commitment }))
    const r = await verify(B.config)
    expect(r.code).toBe(1)
    expect(r.json.local).toBe(commitment)
    expect(r.lines[0]).toMatch(/^ml2sc: verify failed: commitment differs: on chain 0x[0-9a-f]{64} \(version 1\), local 0x[0-9a-f]{64}/)
  })

  test('a pending ownership transfer: reported; with --owner, a pending owner that is someone else fails', async () => {
    await sendAs(remote.keys[0]!, A.address, A.abi, 'transferOwnership', [attacker])
    const h = await runCliInProcess(['verify', A.config])
    expect(h.code).toBe(0)
    expect(h.stderr).toContain(`owner ${publisher}, pending owner ${attacker}`)
    const r = await verify(A.config, '--owner', publisher)
    expect(r.code).toBe(1)
    expect(r.json).toMatchObject({ owner: publisher, pendingOwner: attacker, check: 'owner' })
    expect(r.lines).toEqual([expect.stringMatching(new RegExp(`^ml2sc: verify failed: pending owner is ${attacker}, expected none or ${publisher} \\(hint: `))])
  })
})

describe('arguments', () => {
  test('a bad --address, and no chain to read: one clear line each', async () => {
    const config = thirdParty(A.config, ['model.onnx', 'test.csv', 'reference.csv'])
    const bad = await runCliInProcess(['verify', config, '--address', '0x1234'])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr.trim()).toBe('ml2sc: error: --address: --address 0x1234 is not an address (hint: give 0x followed by 40 hex digits)')
    const none = await runCliInProcess(['verify', config, '--address', A.address])
    expect(none.code).not.toBe(0)
    expect(none.stderr.trim()).toMatch(/^ml2sc: error: chain\.rpcUrl: no chain to read: .*\(hint: give the chain with --rpc URL/)
  })
})

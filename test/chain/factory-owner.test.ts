// Ownership through a factory: a model deployed by a CREATE2 factory (as a Safe or a deployment script
// would) belongs to `chain.owner`, fixed in its creation code, not to whoever sent the creation. That owner
// uploads the weights and runs `ml2sc update`; the factory and the account that called it are strangers.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { encodeFunctionData, getContractAddress, keccak256, parseEventLogs, toHex, type Abi, type Hex } from 'viem'
import { connectChain, type ChainSession } from '../../src/chain/connectChain.ts'
import { writeDeployment } from '../../src/chain/deploymentFile.ts'
import { ensureAdminLibrary } from '../../src/chain/ensureAdminLibrary.ts'
import { readModelState } from '../../src/chain/modelState.ts'
import { requireOwnerKey } from '../../src/chain/requireOwnerKey.ts'
import { sendTx } from '../../src/chain/sendTx.ts'
import { approveSpending } from '../../src/chain/spendGuard.ts'
import { uploadWeights } from '../../src/chain/uploadWeights.ts'
import { generateSolidity } from '../../src/codegen/generateSolidity.ts'
import { chunkSizes, commitmentOf, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { runCommand } from '../../src/commands/run.ts'
import { updateCommand } from '../../src/commands/update.ts'
import { loadConfig } from '../../src/config/loadConfig.ts'
import type { Config } from '../../src/config/types.ts'
import { prepareModel } from '../../src/pipeline/prepareModel.ts'
import { compileStage } from '../../src/pipeline/stages/compile.ts'
import { deployStage } from '../../src/pipeline/stages/deploy.ts'
import { generateStage } from '../../src/pipeline/stages/generate.ts'
import { uploadStage } from '../../src/pipeline/stages/upload.ts'
import { bcProject, quiet } from '../commands/helpers.ts'
import { randomProject, startRemoteAnvil, type RemoteAnvil } from './helpers.ts'

/** A minimal CREATE2 factory; `relay` lets a test make the factory itself the caller of the model. */
const FACTORY = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;
contract Create2Factory {
    event Deployed(address model);
    function deploy(bytes32 salt, bytes calldata initcode) external returns (address a) {
        bytes memory code = initcode;
        assembly { a := create2(0, add(code, 32), mload(code), salt) }
        require(a != address(0), "create2 failed");
        emit Deployed(a);
    }
    function relay(address target, bytes calldata data) external {
        (bool ok, bytes memory r) = target.call(data);
        if (!ok) assembly { revert(add(r, 32), mload(r)) }
    }
}
`
const SALT = keccak256(toHex('ml2sc factory test'))

let remote: RemoteAnvil
let deployer: ChainSession, owner: ChainSession
let factory: Hex
let factoryAbi: Abi
let config: Config
let abi: Abi
let model: Hex
let blob: Uint8Array
let sizes: number[]
let project: ReturnType<typeof randomProject>

const session = (key: Hex) => connectChain({ rpcUrl: remote.url, hardfork: 'prague', txGasCap: 16_777_216, blockGasLimit: 30_000_000 }, { ML2SC_PRIVATE_KEY: key })

async function revertOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (e) {
    return String((e as Error).message)
  }
  throw new Error('expected a revert')
}

/** Deploy `initcode` through the factory (sent by the deployer account); returns the CREATE2 address. */
async function deployThroughFactory(initcode: Hex, salt: Hex): Promise<Hex> {
  await sendTx(deployer, 'factory deploy', { to: factory, data: encodeFunctionData({ abi: factoryAbi, functionName: 'deploy', args: [salt, initcode] }) }, factoryAbi)
  const address = getContractAddress({ opcode: 'CREATE2', from: factory, salt, bytecode: initcode })
  expect(await deployer.publicClient.getCode({ address })).toMatch(/^0x[0-9a-f]{100,}/)
  return address
}

beforeAll(async () => {
  // 31337 on loopback: a free development chain, so run makes no estimate on a private anvil before it
  // deploys (ownership is the point here, not the spend guard)
  remote = await startRemoteAnvil({ chainId: 31_337 })
  approveSpending(true) // what `--yes` does on the command line (a free chain needs none)
  ;[deployer, owner] = await Promise.all([session(remote.keys[0]!), session(remote.keys[1]!)])
  const f = compileSolidity(FACTORY, 'Create2Factory')
  factoryAbi = f.abi
  factory = (await sendTx(deployer, 'deploy factory', { data: f.bytecode }, f.abi)).contractAddress!
  await ensureAdminLibrary(deployer)

  // the storage layout is never embedded: the weights need an upload, in several chunks
  project = randomProject({ sizes: [8, 16, 3], seed: 11, yaml: `weights:\n  layout: storage\nbatch:\n  upload: 64\nchain:\n  rpcUrl: ${remote.url}\n  owner: '${remote.accounts[1]}'\n` })
  config = await loadConfig(project.config)
  const prep = await prepareModel(config)
  const c = compileSolidity(generateSolidity(prep.plan, prep.generate), prep.contractName, { hardfork: 'prague' })
  abi = c.abi
  blob = encodeWeights(prep.plan)
  sizes = chunkSizes(blob.length, prep.chunkSize)
  model = await deployThroughFactory(c.bytecode, SALT)
  mkdirSync(config.output, { recursive: true })
  await writeDeployment(config.output, { ml2sc: '', configHash: config.hash, chainId: remote.chainId, address: model, contractName: prep.contractName, abi, commitment: commitmentOf(blob), layout: 'storage', transactions: { deploy: '0x' as Hex, upload: [] } })
})
afterAll(async () => {
  approveSpending(false)
  await Promise.all([deployer?.close(), owner?.close()])
  await remote?.stop()
})

describe('a model deployed through a CREATE2 factory with chain.owner', () => {
  test('without chain.owner the factory would own it (why the key exists)', async () => {
    const prep = await prepareModel({ ...config, chain: { ...config.chain, owner: undefined } })
    const c = compileSolidity(generateSolidity(prep.plan, prep.generate), prep.contractName, { hardfork: 'prague' })
    const other = await deployThroughFactory(c.bytecode, keccak256(toHex('no owner')))
    const st = await readModelState(deployer, other, c.abi, { chunks: sizes.length })
    expect(st.owner.toLowerCase()).toBe(factory.toLowerCase())
    // ml2sc cannot sign for a contract owner, and says so before sending anything
    const err = (await requireOwnerKey(deployer, st.owner, 'the weight upload').catch((e: unknown) => e)) as { shortMessage?: string; hint?: string }
    expect(err.shortMessage).toMatch(/the weight upload must be sent by the model's owner/)
    expect(err.hint).toMatch(/the owner is a contract \(a Safe\?\)/)
  })

  test('owner() is chain.owner from creation on, and the creation logs the transfer to it', async () => {
    expect(sizes.length).toBeGreaterThanOrEqual(3)
    const st = await readModelState(deployer, model, abi, { chunks: sizes.length })
    expect(st.owner.toLowerCase()).toBe(remote.accounts[1]!.toLowerCase())
    expect(st.ready).toBe(false)
    const logs = await deployer.publicClient.getLogs({ address: model, fromBlock: 0n })
    const [ev] = parseEventLogs({ abi, logs, eventName: 'OwnershipTransferred' }) as unknown as { args: { newOwner: Hex } }[]
    expect(ev!.args.newOwner.toLowerCase()).toBe(remote.accounts[1]!.toLowerCase())
  })

  test('neither the account that called the factory nor the factory itself can write a chunk', async () => {
    const data = encodeFunctionData({ abi, functionName: 'writeChunk', args: [0n, toHex(blob.subarray(0, sizes[0]!)), commitmentOf(blob)] })
    expect(await revertOf(sendTx(deployer, 'chunk by the deployer', { to: model, data }, abi))).toMatch(new RegExp(`NotOwner\\(${remote.accounts[0]}\\)`, 'i'))
    const relay = encodeFunctionData({ abi: factoryAbi, functionName: 'relay', args: [model, data] })
    expect(await revertOf(sendTx(deployer, 'chunk through the factory', { to: factory, data: relay }, [...factoryAbi, ...abi]))).toMatch(/NotOwner/)
    expect((await readModelState(deployer, model, abi, { chunks: sizes.length })).chunksWritten).toBe(0)
  })

  test('chain.owner uploads the weights', async () => {
    await uploadWeights(owner, model, abi, blob, sizes)
    const st = await readModelState(owner, model, abi, { chunks: sizes.length })
    expect(st.ready).toBe(true)
    expect(st.commitment).toBe(commitmentOf(blob))
  })

  test('`ml2sc update` with the owner key succeeds; with the deployer key it is refused and nothing changes', async () => {
    const w = JSON.parse(readFileSync(project.weights, 'utf8'))
    w['fc1.weight'][1][2] += 0.01
    writeFileSync(project.weights, JSON.stringify(w))
    const saved = process.env.ML2SC_PRIVATE_KEY
    try {
      process.env.ML2SC_PRIVATE_KEY = remote.keys[0]
      const err = await updateCommand({ config: project.config }, quiet).then(() => undefined, (e: Error) => e)
      expect(String(err?.message)).toMatch(/NotOwner/)
      let st = await readModelState(owner, model, abi, { chunks: sizes.length })
      expect(st.version).toBe(1)
      expect(st.commitment).toBe(commitmentOf(blob))

      process.env.ML2SC_PRIVATE_KEY = remote.keys[1]
      const r = await updateCommand({ config: project.config }, quiet)
      expect(r.unchanged).toBe(false)
      expect(r.version).toBe(2)
      expect(r.commitment).not.toBe(commitmentOf(blob))
      st = await readModelState(owner, model, abi, { chunks: sizes.length })
      expect(st.version).toBe(2)
      expect(st.commitment).toBe(r.commitment)
      expect(st.owner.toLowerCase()).toBe(remote.accounts[1]!.toLowerCase())
    } finally {
      if (saved === undefined) delete process.env.ML2SC_PRIVATE_KEY
      else process.env.ML2SC_PRIVATE_KEY = saved
    }
  })

  test('`ml2sc run` with chain.owner not the signing account refuses before spending anything (the upload would revert)', async () => {
    const saved = process.env.ML2SC_PRIVATE_KEY
    const nonce = () => deployer.publicClient.getTransactionCount({ address: remote.accounts[0]! })
    const before = await nonce()
    try {
      process.env.ML2SC_PRIVATE_KEY = remote.keys[0]
      const err = await runCommand({ config: project.config, out: path.join(project.dir, 'out-run') }, quiet).then(() => undefined, (e: Error) => e)
      expect(String(err?.message)).toMatch(new RegExp(`the weight upload must be sent by the model's owner ${remote.accounts[1]}, but the signing account is ${remote.accounts[0]}`, 'i'))
      expect(await nonce()).toBe(before)
    } finally {
      if (saved === undefined) delete process.env.ML2SC_PRIVATE_KEY
      else process.env.ML2SC_PRIVATE_KEY = saved
    }
  })

  test('a re-run after chain.owner changed deploys a new contract instead of reusing the one the old owner holds', async () => {
    const saved = process.env.ML2SC_PRIVATE_KEY
    const cfg = bcProject(`chain:\n  rpcUrl: ${remote.url}\n  owner: '${remote.accounts[0]}'\n`)
    const ownerOf = async () => {
      const d = JSON.parse(readFileSync(path.join(path.dirname(cfg), 'out', 'deployment.json'), 'utf8'))
      return [d.address as Hex, ((await deployer.publicClient.readContract({ address: d.address, abi: d.abi, functionName: 'owner' })) as Hex).toLowerCase()]
    }
    try {
      process.env.ML2SC_PRIVATE_KEY = remote.keys[0]
      await runCommand({ config: cfg }, quiet) // small model: weights in the code, no upload needed
      const [first, firstOwner] = await ownerOf()
      expect(firstOwner).toBe(remote.accounts[0]!.toLowerCase())
      await runCommand({ config: cfg }, quiet) // unchanged: the same contract is reused
      expect((await ownerOf())[0]).toBe(first!)
      writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(remote.accounts[0]!, remote.accounts[1]!))
      await runCommand({ config: cfg }, quiet)
      const [second, secondOwner] = await ownerOf()
      expect(second).not.toBe(first!)
      expect(secondOwner).toBe(remote.accounts[1]!.toLowerCase())
    } finally {
      if (saved === undefined) delete process.env.ML2SC_PRIVATE_KEY
      else process.env.ML2SC_PRIVATE_KEY = saved
    }
  })

  test('the stage commands: anyone deploys, `ml2sc upload` is refused up front for a non-owner and works with the owner key', async () => {
    const saved = process.env.ML2SC_PRIVATE_KEY
    const c = await loadConfig(project.config, { output: path.join(project.dir, 'out-stages') })
    try {
      await generateStage(c, quiet)
      await compileStage(c, quiet)
      process.env.ML2SC_PRIVATE_KEY = remote.keys[0]
      const { deployment } = await deployStage(c, quiet)
      const nonce = await deployer.publicClient.getTransactionCount({ address: remote.accounts[0]! })
      const err = await uploadStage(c, quiet).then(() => undefined, (e: Error) => e)
      expect(String(err?.message)).toMatch(/the weight upload must be sent by the model's owner/)
      expect(await deployer.publicClient.getTransactionCount({ address: remote.accounts[0]! })).toBe(nonce)
      process.env.ML2SC_PRIVATE_KEY = remote.keys[1]
      const r = await uploadStage(c, quiet)
      expect(r.deployment.upload.done).toBe(true)
      const st = await readModelState(owner, deployment.address, deployment.abi, { chunks: sizes.length })
      expect([st.ready, st.owner.toLowerCase()]).toEqual([true, remote.accounts[1]!.toLowerCase()])
    } finally {
      if (saved === undefined) delete process.env.ML2SC_PRIVATE_KEY
      else process.env.ML2SC_PRIVATE_KEY = saved
    }
  })

  test('chain.owner must be an address, not the zero address, and a checksummed one must pass its checksum', async () => {
    for (const bad of ['0x1234', '0x0000000000000000000000000000000000000000']) {
      const file = path.join(project.dir, 'bad.yaml')
      writeFileSync(file, readFileSync(project.config, 'utf8').replace(/owner: '[^']*'/, `owner: '${bad}'`))
      expect(await loadConfig(file).then(() => '', (e: Error) => e.message)).toMatch(/chain\.owner: must be an address/)
    }
    // one character mistyped in a checksummed address: the EIP-55 checksum catches it (the model would be unownable)
    const good = remote.accounts[1]!
    const at = good.slice(2).search(/[a-f]/) + 2
    const typo = good.slice(0, at) + good[at]!.toUpperCase() + good.slice(at + 1)
    const file = path.join(project.dir, 'typo.yaml')
    writeFileSync(file, readFileSync(project.config, 'utf8').replace(/owner: '[^']*'/, `owner: '${typo}'`))
    expect(await loadConfig(file).then(() => '', (e: Error) => e.message)).toMatch(/chain\.owner: 0x[0-9a-fA-F]{40} fails its EIP-55 checksum/)
    writeFileSync(file, readFileSync(project.config, 'utf8').replace(/owner: '[^']*'/, `owner: '${good.toLowerCase()}'`))
    expect((await loadConfig(file)).chain.owner).toBe(good.toLowerCase() as never)
  })
})

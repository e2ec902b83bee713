// Kill and resume: a real `bin/ml2sc run` is SIGKILLed in the middle of its weight upload to a "remote"
// node (a second anvil), then run again. The re-run must pick up the same contract, send only the chunks
// the chain does not have (every writeChunk index exactly once on chain, one deploy), and end with the
// local commitment on chain.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { decodeFunctionData, type Abi, type Hex } from 'viem'
import { commitmentOf, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { prepareModel } from '../../src/pipeline/prepareModel.ts'
import { CLI } from '../helpers/paths.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { allTransactions, publicClientFor, randomProject, startRemoteAnvil, type RemoteAnvil } from './helpers.ts'

let remote: RemoteAnvil
beforeAll(async () => {
  // chain id 31337 on loopback: a development chain, free (run estimates nothing on a private anvil: that
  // estimate deploys and uploads every chunk twice, and is not what this file is about); still an RPC node,
  // so the upload keeps its state file
  remote = await startRemoteAnvil({ chainId: 31_337 })
})
afterAll(async () => await remote?.stop())

const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'))

test('SIGKILL mid-upload, re-run: resumes without re-sending a confirmed chunk; the commitment matches', async () => {
  // 64-128-10: about 20 KB of int16 weights, in 512-byte chunks: about 40 upload transactions (each one costs
  // signing, a receipt and a state-file write in both runs: the kill only needs chunks on either side of it)
  const p = randomProject({ sizes: [64, 128, 10], rows: 12, seed: 3, yaml: `precision:\n  weights: int16\nbatch:\n  upload: 512\nchain:\n  rpcUrl: ${remote.url}\n` }) // int16: too big to embed, so uploaded in chunks
  const env = { CI: '1', ML2SC_PRIVATE_KEY: remote.keys[0]! }
  const stateFile = path.join(p.out, 'upload-state.json')

  const proc = Bun.spawn([CLI, 'run', p.config, '--yes'], { stdout: 'pipe', stderr: 'pipe', env: { ...process.env, ...env, ML2SC_TEST_UPLOAD_DELAY_MS: '100' } })
  const stderr = new Response(proc.stderr).text()
  let confirmed = 0
  const t0 = Date.now()
  while (Date.now() - t0 < 600_000) { // a bound on a hung run only: the loop ends when 12 chunks are confirmed
    await Bun.sleep(25)
    if (existsSync(stateFile)) {
      try {
        confirmed = readJson(stateFile).chunks.length
      } catch {}
      if (confirmed >= 12) break
    }
    if (proc.exitCode !== null) break
  }
  proc.kill('SIGKILL')
  await proc.exited
  if (proc.signalCode !== "SIGKILL") console.error(await stderr)
  expect(proc.signalCode).toBe("SIGKILL")
  expect(confirmed).toBeGreaterThanOrEqual(12)

  const dep = readJson(path.join(p.out, 'deployment.json'))
  const abi = dep.abi as Abi
  const client = publicClientFor(remote.url)
  const read = async <T>(functionName: string) => (await client.readContract({ address: dep.address, abi, functionName, args: [] })) as T
  const writtenAtKill = Number(await read<bigint>('chunksWritten'))
  expect(await read<boolean>('ready')).toBe(false)
  expect(writtenAtKill).toBeGreaterThanOrEqual(confirmed)
  const sentBefore = (await allTransactions(remote.url)).length
  expect(sentBefore).toBe(2 + writtenAtKill) // the admin library (once per chain), the deploy and the chunks: nothing else

  // the re-run: src/cli.ts in this process (the killed run above is the process under test)
  const r = await runCliInProcess(['run', p.config, '--yes'], { env })
  expect(r.stderr).not.toContain('ml2sc: error')
  expect(r.code).toBe(0)
  expect(r.stderr).toContain(`reuse the contract at ${dep.address}`)
  // the chunk count follows from the blob's size (the weight layout decides it): 512-byte chunks
  const bytes = Number(/upload (\d+) bytes of weights/.exec(r.stderr)?.[1])
  const total = Math.ceil(bytes / 512)
  expect(total).toBeGreaterThan(30)
  expect(writtenAtKill).toBeLessThan(total)
  expect(r.stderr).toMatch(new RegExp(`resume the upload at chunk ${writtenAtKill + 1}/${total}\\b`))

  // every transaction on the chain: one deploy, each chunk exactly once, then the evaluation
  const txs = await allTransactions(remote.url)
  const creates = txs.filter((t) => t.to === null)
  expect(creates.length).toBe(1)
  const chunkIndices = txs
    .filter((t) => t.to?.toLowerCase() === dep.address.toLowerCase())
    .map((t) => decodeFunctionData({ abi, data: t.input }))
    .filter((d) => d.functionName === 'writeChunk')
    .map((d) => Number(d.args![0]))
  expect(chunkIndices.length).toBe(total)
  expect(chunkIndices).toEqual(Array.from({ length: total }, (_, i) => i))

  // the state file has one confirmed transaction per chunk, and they are the chain's
  const st = readJson(stateFile)
  expect(st.complete).toBe(true)
  expect(st.address.toLowerCase()).toBe(dep.address.toLowerCase())
  expect(st.chunks.map((c: { index: number }) => c.index)).toEqual(Array.from({ length: total }, (_, i) => i))
  const hashes = new Set(txs.map((t) => t.hash))
  for (const c of st.chunks as { hash: Hex }[]) expect(hashes.has(c.hash)).toBe(true)

  // on chain: the local model's commitment, ready, version 1 (one completed upload)
  const plan = (await prepareModel(await loadConfig(p.config))).plan
  expect(await read<Hex>('commitment')).toBe(commitmentOf(encodeWeights(plan)))
  expect(await read<boolean>('ready')).toBe(true)
  expect(Number(await read<bigint>('version'))).toBe(1)
  const report = readJson(path.join(p.out, 'report.json'))
  expect(report.simulator.mismatches).toBe(0)
  // a random model has no PyTorch outputs: agreement here is with ml2sc's own float pass, and the report says so
  expect(report.reference.source).toBe('ml2sc-float')
  expect(report.accuracy.agreement).toBe(1)
  void stderr
}, 900_000)

// `ml2sc update` under faults, on both layouts whose updates take several chunks (datacontract: a data
// contract per chunk; storage: packed slots rewritten in place). Each case deploys the same model (weights
// A) and updates it to B (A × 0.9) on a shared anvil: cleanly (the reference), SIGKILLed after chunk k,
// through an RPC that fails midway, and with a transaction of the killed run landing late. After the rerun
// the chain must hold exactly B (commitment and the simulator's answers), each chunk must have been sent
// once, and the gas recorded must be the clean update's. Mid-update, predict is refused with NotReady.
import { describe, expect, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { localModel, updateCommand } from '../../src/commands/update.ts'
import { predictCommand } from '../../src/commands/predict.ts'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { packRowWords } from '../../src/fixed/encodeRows.ts'
import { CLI } from '../helpers/paths.ts'
import { startFaultProxy } from './faultProxy.ts'
import { errorOf, publicClientFor } from './helpers.ts'
import { blockNow, deployedProject, expectUpdated, readJson, readModel, recordingLogger, useWeights, type Layout, type UpdateProject, ownerChain } from './updateProject.ts'

const RPC_ENV = ['ML2SC_RPC_TIMEOUT_MS', 'ML2SC_RPC_BACKOFF_MS', 'ML2SC_RPC_RETRIES']
const chain = ownerChain(RPC_ENV)

const rpc = async (method: string, params: unknown[] = []) =>
  (await (await fetch(chain().url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })).json()) as { result?: unknown }

/** Poll (no deadline of its own: the test's timeout is the limit) until `done`. */
async function until(done: () => Promise<boolean>): Promise<void> {
  while (!(await done())) await Bun.sleep(40)
}

/** `ml2sc update <config>` as a separate process, slowed per chunk so that it can be stopped mid-upload. */
function spawnUpdate(config: string, delayMs: number) {
  const proc = Bun.spawn([CLI, 'update', config, '--yes'], { stdout: 'pipe', stderr: 'pipe', env: { ...process.env, CI: '1', ML2SC_PRIVATE_KEY: chain().keys[0]!, ML2SC_TEST_UPLOAD_DELAY_MS: String(delayMs) } })
  return { proc, stderr: new Response(proc.stderr).text() }
}

/** Mid-update (chunk 0 of the new weights landed, not the last): how many chunks the chain holds. */
async function midUpdate(p: UpdateProject): Promise<number> {
  return (await readModel(chain(), p, 'ready')) ? 0 : Number(await readModel(chain(), p, 'chunksWritten'))
}

const LAYOUTS: Layout[] = ['datacontract', 'storage']
// 827 bytes of weights (340 int16 and their header) in 96-byte chunks: 9 upload transactions
const CHUNK = 96
const SEED = 41

for (const layout of LAYOUTS) {
  describe(`update, ${layout} layout`, () => {
    let reference: number | undefined

    test('a clean update: exactly B on chain, each chunk once (the reference gas)', async () => {
      const p = await deployedProject(chain(), layout, { seed: SEED, chunk: CHUNK })
      const before = readJson(path.join(p.out, 'deployment.json'))
      useWeights(p, 'b')
      const after = await blockNow(chain())
      const log = recordingLogger()
      const r = await updateCommand({ config: p.config }, log)
      expect(r.version).toBe(2)
      reference = await expectUpdated(chain(), p, log, after)
      expect(r.gas).toBe(reference)
      // killed after the last chunk landed, before deployment.json was written: the rerun sends nothing and
      // records the update (its version, transactions and gas)
      const dep = readJson(path.join(p.out, 'deployment.json'))
      writeFileSync(path.join(p.out, 'deployment.json'), JSON.stringify({ ...dep, commitment: before.commitment, modelVersion: 1, transactions: { ...dep.transactions, updates: [] } }))
      const again = await updateCommand({ config: p.config }, log)
      expect([again.version, again.gas, again.unchanged, again.transactions]).toEqual([2, reference, false, r.transactions])
      expect(await expectUpdated(chain(), p, log, after, reference)).toBe(reference)
      expect(readJson(path.join(p.out, 'deployment.json')).transactions.updates).toHaveLength(1)
    }, 300_000)

    test('SIGKILL after chunk k: predict is refused (NotReady) until the rerun sends the missing chunks only', async () => {
      const p = await deployedProject(chain(), layout, { seed: SEED, chunk: CHUNK })
      useWeights(p, 'b')
      const { sizes, prep } = await localModel(await loadConfig(p.config))
      const after = await blockNow(chain())
      const { proc, stderr } = spawnUpdate(p.config, 300)
      await until(async () => proc.exitCode !== null || (await midUpdate(p)) >= 3)
      proc.kill('SIGKILL')
      await proc.exited
      if (proc.signalCode !== 'SIGKILL') console.error(await stderr)
      expect(proc.signalCode).toBe('SIGKILL')
      const k = await midUpdate(p)
      expect(k).toBeGreaterThanOrEqual(3)
      expect(k).toBeLessThan(sizes.length)

      // between the first chunk and the last, the contract refuses inference with NotReady (no mix of old
      // and new weights is ever answered), and `ml2sc predict` says why in one line
      const row = packRowWords(prep.plan, new Array(16).fill(0n))
      expect(await errorOf(publicClientFor(chain().url).readContract({ address: p.address, abi: p.abi, functionName: 'predict', args: [row] }))).toMatch(/NotReady/)
      // (with the model file the contract was deployed with: one with the new weights is refused before
      // the chain is asked, as another contract than the deployed one)
      useWeights(p, 'a')
      expect(await errorOf(predictCommand({ config: p.config, input: path.join(p.dir, 'test.csv'), quiet: true }, recordingLogger()))).toMatch(new RegExp(`upload incomplete: ${k} of ${sizes.length} chunk\\(s\\) written .* refuses inference until the upload completes`))

      useWeights(p, 'b')
      const log = recordingLogger()
      const r = await updateCommand({ config: p.config }, log)
      expect(log.lines.join('\n')).toContain(`resume the upload at chunk ${k + 1}/${sizes.length}`)
      expect(r.version).toBe(2)
      expect(await expectUpdated(chain(), p, log, after, reference)).toBe(r.gas)
    }, 300_000)

    test('the RPC fails midway (503s, dropped and truncated answers, then no answer at all): the rerun completes', async () => {
      const p = await deployedProject(chain(), layout, { seed: SEED, chunk: CHUNK })
      useWeights(p, 'b')
      const { sizes } = await localModel(await loadConfig(p.config))
      const after = await blockNow(chain())
      let down = false
      const proxy = await startFaultProxy(chain().url, { warmup: 6, every503: 5, everyHang: 1e9, everyDrop: 4, everyTruncate: 7, max503: 8, maxHang: 0, maxDrop: 8, maxTruncate: 4, swallowTx: [], nonceErrorTx: [], hangMs: 0, down: () => down })
      const yaml = readFileSync(p.config, 'utf8')
      // how long ml2sc waits for a receipt before giving up (the node is gone for good in the first run)
      Object.assign(process.env, { ML2SC_RPC_TIMEOUT_MS: '2000', ML2SC_RPC_BACKOFF_MS: '10', ML2SC_RPC_RETRIES: '6', ML2SC_TX_TIMEOUT_MS: '2000', ML2SC_TEST_UPLOAD_DELAY_MS: '150' })
      try {
        await Bun.write(p.config, yaml.replace(/rpcUrl: .*/, `rpcUrl: ${proxy.url}`))
        // the node goes away after chunk 3: every request from then on is cut
        const watch = until(async () => (await midUpdate(p)) >= 3).then(() => (down = true))
        const first = await errorOf(updateCommand({ config: p.config }, recordingLogger()))
        down = true
        await watch
        expect(first).not.toBe('no error')
        expect(proxy.stats.e503 + proxy.stats.drops + proxy.stats.truncated).toBeGreaterThan(3)
        const k = await midUpdate(p)
        expect(k).toBeGreaterThanOrEqual(3)
        expect(k).toBeLessThan(sizes.length)
        // the node is back, behind the same faulty proxy
        down = false
        delete process.env.ML2SC_TX_TIMEOUT_MS
        delete process.env.ML2SC_TEST_UPLOAD_DELAY_MS
        const log = recordingLogger()
        const r = await updateCommand({ config: p.config }, log)
        await Bun.write(p.config, yaml)
        expect(r.version).toBe(2)
        expect(await expectUpdated(chain(), p, log, after, reference)).toBe(r.gas)
      } finally {
        for (const k of [...RPC_ENV, 'ML2SC_TX_TIMEOUT_MS', 'ML2SC_TEST_UPLOAD_DELAY_MS']) delete process.env[k]
        await Bun.write(p.config, yaml)
        await proxy.stop()
      }
    }, 300_000)

    test('a chunk ml2sc gave up waiting for lands late, as the rerun starts: it is waited for, not sent again', async () => {
      const p = await deployedProject(chain(), layout, { seed: SEED, chunk: CHUNK })
      useWeights(p, 'b')
      const { sizes } = await localModel(await loadConfig(p.config))
      const after = await blockNow(chain())
      const pool = async () => Number(((await rpc('txpool_status')).result as { pending: string }).pending)
      const yaml = readFileSync(p.config, 'utf8')
      const proxy = await startFaultProxy(chain().url, { warmup: 1e9, every503: 1, everyHang: 1, everyDrop: 1, everyTruncate: 1, max503: 0, maxHang: 0, maxDrop: 0, maxTruncate: 0, swallowTx: [], nonceErrorTx: [], hangMs: 0 })
      Object.assign(process.env, { ML2SC_TX_TIMEOUT_MS: '2000', ML2SC_TEST_UPLOAD_DELAY_MS: '150' })
      try {
        // three chunks before the end the node stops mining: the chunks sent next sit in its pool (the last
        // one at least, which is sent once the others landed), and ml2sc gives up on them
        const stall = until(async () => (await midUpdate(p)) >= sizes.length - 3).then(() => rpc('evm_setAutomine', [false]))
        const first = await errorOf(updateCommand({ config: p.config }, recordingLogger()))
        await stall
        expect(first).toMatch(/was not mined within 2 s/)
        const pending = await pool()
        expect(pending).toBeGreaterThan(0)
        const k = await midUpdate(p)
        expect(k).toBeLessThan(sizes.length)
        delete process.env.ML2SC_TX_TIMEOUT_MS
        delete process.env.ML2SC_TEST_UPLOAD_DELAY_MS

        // the rerun starts while they have not landed; they land (a block is mined) once the rerun has either
        // looked them up or sent a transaction of its own
        await Bun.write(p.config, yaml.replace(/rpcUrl: .*/, `rpcUrl: ${proxy.url}`))
        const log = recordingLogger()
        const rerun = updateCommand({ config: p.config }, log)
        await until(async () => (proxy.stats.methods.eth_getTransactionByHash ?? 0) > 0 || (await pool()) > pending)
        await rpc('evm_setAutomine', [true])
        await rpc('evm_mine')
        const r = await rerun
        await Bun.write(p.config, yaml)
        expect(r.version).toBe(2)
        expect(await expectUpdated(chain(), p, log, after, reference)).toBe(r.gas)
      } finally {
        for (const k of ['ML2SC_TX_TIMEOUT_MS', 'ML2SC_TEST_UPLOAD_DELAY_MS']) delete process.env[k]
        await rpc('evm_setAutomine', [true])
        await Bun.write(p.config, yaml)
        await proxy.stop()
      }
    }, 300_000)
  })
}

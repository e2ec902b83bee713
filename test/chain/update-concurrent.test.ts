// Two `ml2sc update`s of one model at once (two processes, two output folders: two operators), and an
// update interrupted then abandoned for other weights. The contract's guards (UploadInterleaved,
// CommitmentMismatch) keep the two uploads apart; ml2sc must end with one winner, whose weights the chain
// then holds exactly, and one clear error for the other.
import { expect, test } from 'bun:test'
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { updateCommand } from '../../src/commands/update.ts'
import { CLI } from '../helpers/paths.ts'
import { startFaultProxy } from './faultProxy.ts'
import { errorOf } from './helpers.ts'
import { blockNow, deployedProject, expectUpdated, readJson, readModel, recordingLogger, useWeights, type UpdateProject, ownerChain } from './updateProject.ts'

const chain = ownerChain()

async function until(done: () => Promise<boolean>): Promise<void> {
  while (!(await done())) await Bun.sleep(40)
}
const midUpdate = async (p: UpdateProject) => ((await readModel(chain(), p, 'ready')) ? 0 : Number(await readModel(chain(), p, 'chunksWritten')))

/** A second operator's copy of the project: the same deployment.json, its own output folder and model file. */
function secondOperator(p: UpdateProject): UpdateProject {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-operator-'))
  cpSync(p.dir, dir, { recursive: true })
  return { ...p, dir, out: path.join(dir, 'out'), config: path.join(dir, 'ml2sc.yaml') }
}

test('two updates at once (B, then C from another process): C wins whole, B fails with one clear line', async () => {
  // 827 bytes of weights in 64-byte chunks: 13 transactions each
  const p = await deployedProject(chain(), 'datacontract', { seed: 51, chunk: 64 })
  const q = secondOperator(p)
  useWeights(p, 'b')
  useWeights(q, 'c')
  const after = await blockNow(chain())
  const loser = Bun.spawn([CLI, 'update', p.config, '--yes'], { stdout: 'pipe', stderr: 'pipe', env: { ...process.env, CI: '1', ML2SC_PRIVATE_KEY: chain().keys[0]!, ML2SC_TEST_UPLOAD_DELAY_MS: '500' } })
  const stderr = new Response(loser.stderr).text()
  // B's upload is under way (its chunk 0 landed) when C's starts
  await until(async () => loser.exitCode !== null || (await midUpdate(p)) >= 1)
  const log = recordingLogger()
  const r = await updateCommand({ config: q.config }, log)
  expect(r.version).toBe(2)
  const code = await loser.exited
  const text = await stderr
  expect(code).toBe(1)
  const errors = text.split('\n').filter((l) => l.startsWith('ml2sc: error'))
  expect(errors).toHaveLength(1)
  // both operators sign with the owner's key: B learns it lost either from the contract (C's chunk 0 took
  // over) or, when C's transaction took one of B's nonces first, from the node (replaced); both are one line
  expect(errors[0]).toMatch(
    /another upload of other weights took over 0x[0-9a-fA-F]{40} at chunk \d+\/\d+ of this one .*: it started later and wins; nothing of this upload goes live.*hint: two updates of this model ran at once|upload chunk \d+\/\d+: transaction 0x[0-9a-f]{64} was replaced by another transaction of 0x[0-9a-fA-F]{40} \(nonce \d+\).*hint: another program is sending from the same account/,
  )
  expect(text).not.toMatch(/^\s+at /m) // no stack trace

  // the chain holds C exactly (its chunks each once, none of B's after C's chunk 0), as C's deployment.json says
  await expectUpdated(chain(), q, log, after, undefined, { others: true })
  // B's folder recorded no update
  expect(readJson(path.join(p.out, 'deployment.json')).transactions.updates ?? []).toEqual([])
  // B's operator runs again: B replaces C, cleanly (from chunk 1), and the chain holds B exactly
  const startB = await blockNow(chain())
  const again = recordingLogger()
  const b = await updateCommand({ config: p.config }, again)
  expect(b.version).toBe(3)
  expect(await expectUpdated(chain(), p, again, startB)).toBe(b.gas)
}, 300_000)

test('an update interrupted (the RPC went away) and abandoned for other weights: the next one starts cleanly', async () => {
  const p = await deployedProject(chain(), 'storage', { seed: 52, chunk: 96 })
  const yaml = readFileSync(p.config, 'utf8')
  let down = false
  const proxy = await startFaultProxy(chain().url, { warmup: 1e9, every503: 1, everyHang: 1, everyDrop: 1, everyTruncate: 1, max503: 0, maxHang: 0, maxDrop: 0, maxTruncate: 0, swallowTx: [], nonceErrorTx: [], hangMs: 0, down: () => down })
  Object.assign(process.env, { ML2SC_TX_TIMEOUT_MS: '2000', ML2SC_TEST_UPLOAD_DELAY_MS: '150', ML2SC_RPC_RETRIES: '2', ML2SC_RPC_BACKOFF_MS: '10' })
  try {
    writeFileSync(p.config, yaml.replace(/rpcUrl: .*/, `rpcUrl: ${proxy.url}`))
    useWeights(p, 'b')
    const after = await blockNow(chain())
    const watch = until(async () => (await midUpdate(p)) >= 3).then(() => (down = true))
    expect(await errorOf(updateCommand({ config: p.config }, recordingLogger()))).not.toBe('no error')
    await watch
    const k = await midUpdate(p)
    expect(k).toBeGreaterThanOrEqual(3)
    for (const v of ['ML2SC_TX_TIMEOUT_MS', 'ML2SC_TEST_UPLOAD_DELAY_MS', 'ML2SC_RPC_RETRIES', 'ML2SC_RPC_BACKOFF_MS']) delete process.env[v]
    writeFileSync(p.config, yaml)

    // B is abandoned: the model file is now C
    useWeights(p, 'c')
    const start = await blockNow(chain())
    const log = recordingLogger()
    const r = await updateCommand({ config: p.config }, log)
    expect(r.version).toBe(2)
    // C from its chunk 1 (B's chunks on chain are not taken for C's), each chunk once, then exactly C
    await expectUpdated(chain(), p, log, start)
    expect(await expectUpdated(chain(), p, log, after, undefined, { others: true })).toBe(r.gas)
  } finally {
    for (const v of ['ML2SC_TX_TIMEOUT_MS', 'ML2SC_TEST_UPLOAD_DELAY_MS', 'ML2SC_RPC_RETRIES', 'ML2SC_RPC_BACKOFF_MS']) delete process.env[v]
    writeFileSync(p.config, yaml)
    await proxy.stop()
  }
}, 300_000)

// The calldata limit per evaluation transaction (MAX_BATCH_CALLDATA): nodes refuse transactions over about
// 128 KB (geth's pool limit), so batches must stay under it even when the gas cap would allow far more
// rows. A cheap model with wide rows is exactly that case: without the limit its batches are ~300 KB.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Hex } from 'viem'
import { connectChain, type ChainSession } from '../../src/chain/connectChain.ts'
import { deployModel } from '../../src/chain/deployModel.ts'
import { measureBatchGas } from '../../src/chain/evaluateOnChain.ts'
import { generateSolidity } from '../../src/codegen/generateSolidity.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { loadConfig } from '../../src/config/loadConfig.ts'
import type { Config } from '../../src/config/types.ts'
import { ConfigError } from '../../src/errors/base.ts'
import type { Plan } from '../../src/fixed/types.ts'
import { checkBatchRows, evaluateRows } from '../../src/pipeline/evaluateRows.ts'
import { prepareModel } from '../../src/pipeline/prepareModel.ts'
import { createLogger } from '../../src/ui/logger.ts'
import { randomProject } from './helpers.ts'

/** What nodes accept per transaction (geth's txpool: 128 KB); ml2sc keeps well under it. */
const NODE_TX_BYTES = 128 * 1024
const quiet = createLogger({ quiet: true })
let s: ChainSession
let config: Config
let plan: Plan
let abi: ReturnType<typeof compileSolidity>['abi']
let address: Hex
beforeAll(async () => {
  // 96 inputs, 2 outputs: a few thousand gas per row but 384 bytes of calldata per row
  const p = randomProject({ sizes: [96, 2], rows: 1_000, seed: 21 })
  config = await loadConfig(p.config)
  plan = (await prepareModel(config)).plan
  const c = compileSolidity(generateSolidity(plan, { contractName: 'Wide' }), 'Wide')
  abi = c.abi
  s = await connectChain(config.chain)
  address = (await deployModel(s, c.bytecode, c.abi)).address
})
afterAll(async () => await s?.close())

describe('calldata per transaction', () => {
  test('auto batches stay under the calldata limit although the gas cap alone would allow more than a node accepts', async () => {
    const rowBytes = plan.inputSize * plan.inputBytes
    const sample = [Array.from({ length: plan.inputSize }, () => 1000n), Array.from({ length: plan.inputSize }, () => -1000n)]
    const m = await measureBatchGas(s, address, abi, plan, sample)
    const byGas = Math.floor((config.chain.txGasCap * 0.9 - m.fixed) / m.perRow)
    // the case the limit exists for: gas alone would make batches far over what a node accepts
    expect(byGas * rowBytes).toBeGreaterThan(NODE_TX_BYTES)
    const ev = await evaluateRows(s, address, abi, plan, config, quiet)
    expect(ev.evaluatedRows).toBe(1_000)
    expect(ev.txs.length).toBeGreaterThan(1)
    for (const t of ev.txs) {
      const tx = await s.publicClient.getTransaction({ hash: t.hash! })
      expect((tx.input.length - 2) / 2).toBeLessThan(100_000)
    }
    expect(ev.batchRows * rowBytes).toBeLessThanOrEqual(96_000)
  })

  test('an explicit batch.rows over the limit is refused before anything is sent', () => {
    const rowBytes = plan.inputSize * plan.inputBytes
    const rows = Math.ceil(294_000 / rowBytes)
    expect(() => checkBatchRows({ ...config, batch: { ...config.batch, rows } }, plan)).toThrow(ConfigError)
    expect(() => checkBatchRows({ ...config, batch: { ...config.batch, rows: Math.floor(90_000 / rowBytes) } }, plan)).not.toThrow()
  })
})

// Issue 14's gas target, measured on a real anvil with the EIP-7825 cap: the MNIST-shaped CNN (conv 1→8 5×5,
// max-pool 2, conv 8→16 5×5, avg-pool 2, linear 256→10; 5,994 parameters, 322,560 MACs) answers one
// `predict` in ONE transaction for ≤ 4,000,000 gas, and its weights upload under the cap.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import path from 'node:path'
import { connectChain, type ChainSession } from '../../src/chain/connectChain.ts'
import { readAllRows } from '../../src/data/readCsv.ts'
import { encodeRow } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { macsOf } from '../../src/ir/tensorShapes.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { deployCnn } from '../helpers/deployCnn.ts'
import { FIXTURES } from '../helpers/paths.ts'

const CAP = 16_777_216
let s: ChainSession
beforeAll(async () => {
  s = await connectChain({ hardfork: 'prague', txGasCap: CAP, blockGasLimit: 30_000_000 })
})
afterAll(async () => await s?.close())

describe('CNN gas bounds', () => {
  test('MNIST-shaped CNN: one predict ≤ 4,000,000 gas (int16 and int24 weights), upload under the cap, exact', async () => {
    const dir = path.join(FIXTURES, 'cnn_mnist28')
    const model = await loadModel({ path: path.join(dir, 'model.onnx') })
    expect(model.tensorLayers!.reduce((a, l) => a + macsOf(l), 0) + 2560).toBe(322_560)
    const data = await readAllRows(path.join(dir, 'test.csv'), { label: 'label' })
    for (const weightBytes of [2, 3]) {
      const plan = makePlan(model, { fraction: 20, weightBytes, inputBytes: 4 })
      const c = await deployCnn(s, plan, `Mnist${weightBytes}`)
      expect(c.compiled.runtimeBytes).toBeLessThanOrEqual(24_576)
      expect(c.uploads.length).toBeGreaterThan(0)
      for (const u of c.uploads) expect(u.gasUsed).toBeLessThan(CAP)
      const row = (encodeRow(plan, data.features[0]!) as { values: bigint[] }).values
      const gas = await c.predictTxGas(row)
      console.log(`MNIST-shaped CNN, int${8 * weightBytes} weights: one predict ${gas.toLocaleString('en-US')} gas; upload ${c.uploads.reduce((a, u) => a + u.gasUsed, 0).toLocaleString('en-US')} in ${c.uploads.length} tx; code ${c.compiled.runtimeBytes} bytes`)
      expect(gas).toBeLessThanOrEqual(4_000_000)
      expect((await c.predict(row)).map(String)).toEqual(simulate(plan, row).map(String))
    }
  }, 300_000)
})

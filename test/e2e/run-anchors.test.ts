// Acceptance: ML2SC's nine reference models (source models.py + weights JSON, first 50 rows) give exactly
// PyTorch's class on every row, on a real anvil with real solc, through the same stages `ml2sc run` uses.
import { describe, expect, test } from 'bun:test'
import path from 'node:path'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { deployModel } from '../../src/chain/deployModel.ts'
import { predictBatchTx } from '../../src/chain/evaluateOnChain.ts'
import { uploadWeights } from '../../src/chain/uploadWeights.ts'
import { generateSolidity } from '../../src/codegen/generateSolidity.ts'
import { chunkSizes, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { readAllRows } from '../../src/data/readCsv.ts'
import { encodeRow, interpret } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { ANCHORS } from '../helpers/paths.ts'
import { fileChain } from '../helpers/fileChain.ts'

const NAMES = ['MLP_1L1', 'MLP_2L1', 'MLP_2L2', 'MLP_2L3', 'MLP_2L4', 'MLP_3L1', 'MLP_3L2', 'MLP_3L3', 'MLP_3L4']
let s: ChainSession
fileChain((c) => (s = c))

describe('ML2SC reference models on chain', async () => {
  const data = await readAllRows(path.join(ANCHORS, 'processed_data.csv'), { label: 'diagnosis', drop: ['id'], limit: 50 })
  for (const name of NAMES) {
    test(`${name}: on-chain class = PyTorch class on all 50 rows`, async () => {
      const model = await loadModel({ path: path.join(ANCHORS, 'weights', `${name}.json`), source: path.join(ANCHORS, 'models.py'), class: name })
      const plan = makePlan(model, { fraction: 20, weightBytes: 2, inputBytes: 4 })
      const c = compileSolidity(generateSolidity(plan, { contractName: name }), name)
      const { address } = await deployModel(s, c.bytecode, c.abi)
      const blob = encodeWeights(plan)
      await uploadWeights(s, address, c.abi, blob, chunkSizes(blob.length))
      const rows = data.features.map((f) => (encodeRow(plan, f) as { values: bigint[] }).values)
      const res = await predictBatchTx(s, address, c.abi, plan, rows, 'batch')
      const torch = (await Bun.file(path.join(ANCHORS, 'reference', `${name}.outputs.csv`)).text()).trim().split('\n').map(Number)
      expect(res.outputs.length).toBe(50)
      res.outputs.forEach((raw, i) => {
        expect(interpret(plan, 'binary', raw)).toBe(torch[i]! > 0.5 ? 1 : 0)
        expect(raw).toEqual(simulate(plan, rows[i]!)) // bit-exact simulator
        expect(Math.abs(Number(raw[0]) / 2 ** 20 - torch[i]!)).toBeLessThan(1e-4)
      })
      if (name === 'MLP_2L4') expect(res.tx.gasUsed / 50).toBeLessThan(5_000)
    })
  }
})

// Issue 20, self-attention from ONNX on chain: the pre-norm TransformerEncoderLayer fixture (4 heads, gelu,
// flatten into Linear(128→3); scripts/make-attention-fixtures.py) read from torch.onnx.export's graph alone (no
// model.source) runs on chain exactly as the simulator on 8 test rows, and within 2e-3 of PyTorch's outputs
// (its logits reach ~25) with PyTorch's class.
import { expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { readAllRows } from '../../src/data/readCsv.ts'
import { encodeRow } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { deployCnn } from '../helpers/deployCnn.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { FIXTURES } from '../helpers/paths.ts'

let s: ChainSession
fileChain((c) => (s = c))

test('encoder_pre/model.onnx on chain: = simulator on 8 rows, PyTorch within 2e-3 and its class', async () => {
  const dir = path.join(FIXTURES, 'seq', 'encoder_pre')
  const model = await loadModel({ path: path.join(dir, 'model.onnx') })
  expect(model.attention?.encoder).toMatchObject({ normFirst: true, act: { kind: 'gelu' } })
  const plan = makePlan(model, { fraction: 20, weightBytes: 2, inputBytes: 4 })
  const c = await deployCnn(s, plan, 'AttnOnnxEncoderPre')
  const data = await readAllRows(path.join(dir, 'test.csv'), { label: 'label' })
  const rows = data.features.slice(0, 8).map((x) => (encodeRow(plan, x) as { values: bigint[] }).values)
  const torch = readFileSync(path.join(dir, 'reference.csv'), 'utf8').trim().split('\n').map((l) => l.split(',').map(Number))
  const { outputs } = await c.batch(rows)
  let worst = 0
  outputs.forEach((o, k) => {
    expect(o.map(String)).toEqual(simulate(plan, rows[k]!).map(String))
    const y = o.map((v) => Number(v) / 2 ** 20)
    y.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - torch[k]![j]!))))
    expect(y.indexOf(Math.max(...y))).toBe(torch[k]!.indexOf(Math.max(...torch[k]!)))
  })
  const gas = await c.predictTxGas(rows[0]!)
  console.log(`encoder_pre (ONNX): max |chain − PyTorch| ${worst.toExponential(2)} over 8 rows; one predict ${gas.toLocaleString('en-US')} gas`)
  expect(worst).toBeLessThan(2e-3)
  expect(worst).toBeGreaterThan(0)
}, 300_000)

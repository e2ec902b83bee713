// `bun bench/cnnTargets.ts`: issue 23's CNN targets, measured alone on a real anvil (EIP-7825 cap): the
// MNIST-shaped fixture at the default config (precision: auto on its calibration rows, tolerance 1%, against
// PyTorch's outputs), and the same network with a softmax output (PyTorch's probabilities: the softmax of its
// logits in reference.csv) at the precision auto picks for it. One predict transaction each, checked exact.
import { appendFileSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { encodeFunctionData } from 'viem'
import { connectChain } from '../src/chain/connectChain.ts'
import { deployModel } from '../src/chain/deployModel.ts'
import { ensureAdminLibrary } from '../src/chain/ensureAdminLibrary.ts'
import { predictBatchTx } from '../src/chain/evaluateOnChain.ts'
import { uploadWeights } from '../src/chain/uploadWeights.ts'
import { embedsWeights, generateSolidity } from '../src/codegen/generateSolidity.ts'
import { chunkSizes, encodeWeights } from '../src/codegen/weights/weightBlob.ts'
import { compileSolidity } from '../src/compile/compileSolidity.ts'
import { readAllRows } from '../src/data/readCsv.ts'
import { encodeRow, packRowWords } from '../src/fixed/encodeRows.ts'
import { simulate } from '../src/fixed/simulate.ts'
import { weightWidthText } from '../src/fixed/types.ts'
import { taskOf } from '../src/ir/taskOf.ts'
import type { ModelIR } from '../src/ir/types.ts'
import { loadModel } from '../src/model/loadModel.ts'
import { heldOutCount } from '../src/pipeline/calibrationRows.ts'
import { autoPlan } from '../src/pipeline/prepareModel.ts'
import { traceGas } from './trace.ts'

const dir = path.resolve(import.meta.dir, '../test/fixtures/cnn_mnist28')
const logits = await loadModel({ path: path.join(dir, 'model.onnx') })
const last = logits.layers[logits.layers.length - 1]!
const softmax: ModelIR = { ...logits, layers: [...logits.layers.slice(0, -1), { ...last, activation: { kind: 'softmax' } }] }
const data = await readAllRows(path.join(dir, 'test.csv'), { label: 'label' })
const torchLogits = readFileSync(path.join(dir, 'reference.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').slice(1).map(Number))
const probs = torchLogits.map((z) => {
  const m = Math.max(...z)
  const e = z.map((v) => Math.exp(v - m))
  const s = e.reduce((a, b) => a + b, 0)
  return e.map((v) => v / s)
})
const range = { min: Math.min(...data.features.flat()), max: Math.max(...data.features.flat()) }
const n = heldOutCount(data.features.length)

const s = await connectChain({ hardfork: 'prague', txGasCap: 16_777_216, blockGasLimit: 30_000_000 })
try {
  await ensureAdminLibrary(s)
  for (const [name, model, reference] of [['logits (the fixture)', logits, torchLogits], ['softmax output', softmax, probs]] as const) {
    // ML2SC_WEIGHTS=int16 (say) measures a width auto would not choose by itself
    const weights = (process.env.ML2SC_WEIGHTS ?? 'auto') as 'auto'
    const plan = autoPlan(model, taskOf(model), { weights, inputs: 'auto' }, { rows: data.features.slice(0, n), range }, reference.slice(0, n)).plan
    const c = compileSolidity(generateSolidity(plan, { contractName: 'CnnTarget' }), 'CnnTarget')
    const { address, tx } = await deployModel(s, c.bytecode, c.abi)
    const blob = encodeWeights(plan)
    const up = embedsWeights(plan) ? [] : await uploadWeights(s, address, c.abi, blob, chunkSizes(blob.length))
    const rows = data.features.map((f) => (encodeRow(plan, f) as { values: bigint[] }).values)
    const hash = await s.walletClient.sendTransaction({ account: s.account, chain: s.chain, to: address, data: encodeFunctionData({ abi: c.abi, functionName: 'predict', args: [packRowWords(plan, rows[0]!)] }), gas: 16_000_000n })
    const single = Number((await s.publicClient.waitForTransactionReceipt({ hash })).gasUsed)
    // ML2SC_TRACE=<file>: where this predict's gas goes, per opcode class and per opcode (bench/trace.ts)
    if (process.env.ML2SC_TRACE) {
      const t = await traceGas(s, hash)
      const top = Object.entries(t.byOp).sort((a, b) => b[1] - a[1]).slice(0, 20).map(([k, v]) => `${k} ${v}`).join(', ')
      appendFileSync(process.env.ML2SC_TRACE, JSON.stringify({ name, total: t.total, intrinsic: t.intrinsic, byClass: t.byClass, steps: t.steps }) + '\n' + top + '\n')
    }
    const batch = await predictBatchTx(s, address, c.abi, plan, rows.slice(0, 4), 'cnn target')
    const mismatches = batch.outputs.filter((raw, i) => simulate(plan, rows[i]!).some((v, j) => v !== raw[j])).length
    const width = `${weightWidthText(plan)} weights, ${plan.inputUnsigned ? 'u' : ''}int${8 * plan.inputBytes} inputs at 2^${plan.inputFraction ?? plan.F}`
    console.log(JSON.stringify({ name, precision: width, calibrationRows: n, deploy: Number(tx.gasUsed), upload: up.reduce((a, t) => a + t.gasUsed, 0), predictSingle: single, mismatches }))
  }
} finally {
  await s.close()
}

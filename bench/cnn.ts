// CNN rows of the benchmark: the fixture CNNs (digits 8×8, MNIST-shaped 28×28, 1-D signal, depthwise+BN)
// deployed, uploaded and evaluated on every test row on a real anvil with the EIP-7825 cap. `bun bench/cnn.ts`
// measures them alone and puts the section into bench/RESULTS.md; `npm run bench` includes it.
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { encodeFunctionData } from 'viem'
import { connectChain, type ChainSession } from '../src/chain/connectChain.ts'
import { deployModel } from '../src/chain/deployModel.ts'
import { ensureAdminLibrary } from '../src/chain/ensureAdminLibrary.ts'
import { predictBatchTx } from '../src/chain/evaluateOnChain.ts'
import { uploadWeights } from '../src/chain/uploadWeights.ts'
import { embedsWeights, generateSolidity } from '../src/codegen/generateSolidity.ts'
import { chunkSizes, encodeWeights } from '../src/codegen/weights/weightBlob.ts'
import { compileSolidity } from '../src/compile/compileSolidity.ts'
import { readAllRows } from '../src/data/readCsv.ts'
import { encodeRow, interpret, packRowWords } from '../src/fixed/encodeRows.ts'
import { makePlan } from '../src/fixed/makePlan.ts'
import { simulate } from '../src/fixed/simulate.ts'
import { macsOf } from '../src/ir/tensorShapes.ts'
import { loadModel } from '../src/model/loadModel.ts'

const FIXTURES = path.resolve(import.meta.dir, '../test/fixtures')
const CNNS: [string, string][] = [
  ['cnn_mnist28', 'MNIST-shaped 1×28×28: conv 1→8 5×5, max-pool 2, conv 8→16 5×5, avg-pool 2, linear 256→10'],
  ['cnn_digits8', 'digits 1×8×8: conv 1→4 3×3 p1, max-pool 2, conv 4→8 3×3 same, avg-pool 2, linear 32→10'],
  ['cnn_depthwise', 'digits 1×8×8, depthwise separable + BatchNorm'],
  ['cnn_signal1d', '1-D signal 1×64: Conv1d stack'],
]

export type CnnRow = {
  name: string
  describe: string
  weights: string
  parameters: number
  macs: number
  runtimeBytes: number
  deploy: number
  upload: number
  uploadTxs: number
  predictSingle: number
  batchRows: number
  perRow: number
  rows: number
  agreement: number
  mismatches: number
}

/** Precisions measured: ml2sc's defaults with int16 and int24 weights, and int8 weights with int16 inputs at 2^12. */
const PRECISIONS = [
  { fraction: 20, weightBytes: 2, inputBytes: 4 },
  { fraction: 20, weightBytes: 3, inputBytes: 4 },
  { fraction: 12, weightBytes: 1, inputBytes: 2 },
]

/** Measure every fixture CNN at each precision (the default datacontract layout). */
export async function measureCnns(s: ChainSession): Promise<CnnRow[]> {
  await ensureAdminLibrary(s)
  const out: CnnRow[] = []
  for (const [name, describe] of CNNS)
    for (const precision of PRECISIONS) {
      const dir = path.join(FIXTURES, name)
      const model = await loadModel({ path: path.join(dir, 'model.onnx') })
      const plan = makePlan(model, precision)
      const c = compileSolidity(generateSolidity(plan, { contractName: 'BenchCnn' }), 'BenchCnn')
      const { address, tx } = await deployModel(s, c.bytecode, c.abi)
      const blob = encodeWeights(plan)
      const up = embedsWeights(plan) ? [] : await uploadWeights(s, address, c.abi, blob, chunkSizes(blob.length))
      const data = await readAllRows(path.join(dir, 'test.csv'), { label: 'label' })
      const torch = readFileSync(path.join(dir, 'reference.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').slice(1).map(Number))
      const encoded = data.features.map((f) => encodeRow(plan, f))
      // a row outside the narrower input range would be refused: that precision is not for this model
      if (encoded.some((e) => !e.ok)) continue
      const rows = encoded.map((e) => (e as { values: bigint[] }).values)
      const data1 = encodeFunctionData({ abi: c.abi, functionName: 'predict', args: [packRowWords(plan, rows[0]!)] })
      const hash = await s.walletClient.sendTransaction({ account: s.account, chain: s.chain, to: address, data: data1, gas: 16_000_000n })
      const single = Number((await s.publicClient.waitForTransactionReceipt({ hash })).gasUsed)
      const batchRows = Math.max(1, Math.min(rows.length, Math.floor((s.txGasCap * 0.8) / single)))
      let agree = 0
      let mismatches = 0
      let perRow = 0
      for (let at = 0; at < rows.length; at += batchRows) {
        const res = await predictBatchTx(s, address, c.abi, plan, rows.slice(at, at + batchRows), `bench ${name}`)
        if (at === 0) perRow = Math.round(res.tx.gasUsed / res.outputs.length)
        res.outputs.forEach((raw, k) => {
          const t = torch[at + k]!
          if (interpret(plan, 'multiclass', [...raw]) === t.indexOf(Math.max(...t))) agree++
          if (simulate(plan, rows[at + k]!).some((v, j) => v !== raw[j])) mismatches++
        })
      }
      const macs = (model.tensorLayers ?? []).reduce((a, l) => a + macsOf(l), 0) + model.layers.reduce((a, l) => a + l.weight.length * l.weight[0]!.length, 0)
      out.push({
        name,
        describe,
        weights: `int${8 * precision.weightBytes} weights, int${8 * precision.inputBytes} inputs at 2^${precision.fraction}`,
        parameters: paramsOf(model),
        macs,
        runtimeBytes: c.runtimeBytes,
        deploy: Number(tx.gasUsed),
        upload: up.reduce((a, t) => a + t.gasUsed, 0),
        uploadTxs: up.length,
        predictSingle: single,
        batchRows,
        perRow,
        rows: rows.length,
        agreement: agree / rows.length,
        mismatches,
      })
      console.error(`${name.padEnd(14)} ${out.at(-1)!.weights} deploy ${tx.gasUsed} upload ${out.at(-1)!.upload} predict ${single} per row ${perRow}`)
    }
  return out
}

function paramsOf(model: Awaited<ReturnType<typeof loadModel>>): number {
  const conv = (model.tensorLayers ?? []).reduce((a, l) => a + (l.kind === 'conv' ? l.weight.length + l.bias.length : 0), 0)
  return conv + model.layers.reduce((a, l) => a + l.weight.length * l.weight[0]!.length + l.bias.length, 0)
}

const n = (x: number) => x.toLocaleString('en-US')

/** The RESULTS.md section for the CNN rows. */
export function cnnSection(rows: CnnRow[]): string[] {
  return [
    '## Convolutional models (fixture CNNs, every test row on chain)',
    '',
    'Datacontract layout; the conv kernel puts output channels in SIMD lanes, fuses a max pool after a',
    'ReLU conv into it, and reads the weights once per transaction. "one predict" is a `predict` transaction.',
    '',
    '| model | precision | params | MACs | runtime bytes | deploy | upload (txs) | one predict | rows/batch | per row | PyTorch class agreement | sim mismatches |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.describe} | ${r.weights} | ${n(r.parameters)} | ${n(r.macs)} | ${n(r.runtimeBytes)} | ${n(r.deploy)} | ${n(r.upload)} (${r.uploadTxs}) | ${n(r.predictSingle)} | ${r.batchRows} | ${n(r.perRow)} | ${(100 * r.agreement).toFixed(1)}% of ${r.rows} | ${r.mismatches} |`),
    '',
  ]
}

/** Replace (or append) the CNN section of a RESULTS.md text. */
export function spliceSection(md: string, section: string[]): string {
  const head = section[0]!.split(' (')[0]!
  const start = md.indexOf(head)
  if (start < 0) return md.trimEnd() + '\n\n' + section.join('\n')
  const next = md.indexOf('\n## ', start + head.length)
  return md.slice(0, start) + section.join('\n') + (next < 0 ? '' : md.slice(next))
}

if (import.meta.main) {
  const s = await connectChain({ hardfork: 'prague', txGasCap: 16_777_216, blockGasLimit: 30_000_000 })
  try {
    const rows = await measureCnns(s)
    const file = path.join(import.meta.dir, 'RESULTS.md')
    writeFileSync(file, spliceSection(readFileSync(file, 'utf8'), cnnSection(rows)))
    console.error('wrote the CNN section of bench/RESULTS.md')
  } finally {
    await s.close()
  }
}

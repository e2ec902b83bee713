// `bun bench/mixedWidths.ts`: per-layer weight widths (issue 23) on the bench's MLP rows, on a real anvil
// (EIP-7825 cap): each model at the default config (`precision: auto`, which now chooses a width per layer)
// beside the uniform width auto chose before (the same plan with `precision.weights` pinned to the widest
// layer's width: per-layer narrowing only narrows). Prints one JSON line per model: the widths, one predict,
// deploy + upload, simulator mismatches, and the largest output error on every test row against the float
// model as a share of the default tolerance (1% of each output's range). The CNN rows: bench/cnnTargets.ts
// (ML2SC_WEIGHTS=int16 measures the uniform plan).
import path from 'node:path'
import { connectChain } from '../src/chain/connectChain.ts'
import { ensureAdminLibrary } from '../src/chain/ensureAdminLibrary.ts'
import type { WeightWidth } from '../src/config/types.ts'
import { readAllRows } from '../src/data/readCsv.ts'
import { referenceForward } from '../src/fixed/referenceForward.ts'
import { simulateFeatures } from '../src/fixed/simulateBatch.ts'
import { DEFAULT_TOLERANCE, tolerancePerOutput } from '../src/fixed/tolerance.ts'
import { weightWidthText, type Plan } from '../src/fixed/types.ts'
import type { ModelIR } from '../src/ir/types.ts'
import { loadModel } from '../src/model/loadModel.ts'
import { benchPlan, measureOurs, randomModel, randomRows } from './measure.ts'

const ANCHORS = path.resolve(import.meta.dir, '../test/fixtures/ml2sc')
const anchorRows = (await readAllRows(path.join(ANCHORS, 'processed_data.csv'), { label: 'diagnosis', drop: ['id'], limit: 50 })).features
const anchor = await loadModel({ path: path.join(ANCHORS, 'weights/MLP_2L4.json'), source: path.join(ANCHORS, 'models.py'), class: 'MLP_2L4' })
const MODELS: [string, ModelIR, number[][], number][] = [
  ['ML2SC MLP_2L4 30-4-1', anchor, anchorRows, 50],
  ['64-128-64-32-10', randomModel([64, 128, 64, 32, 10], 'identity', 3), randomRows(20, 64), 20],
  ['784-128-10', randomModel([784, 128, 10], 'identity', 5), randomRows(25, 784), 4],
]

/** The largest |simulator − float| on every row, as a share of each output's tolerance (≤ 1 passes). */
function errorShare(model: ModelIR, plan: Plan, rows: number[][]): number {
  const refs = rows.map((f) => referenceForward(model, f))
  const tol = tolerancePerOutput(DEFAULT_TOLERANCE, refs, refs[0]!.length)
  const out = simulateFeatures(plan, rows)
  return Math.max(...rows.map((_, i) => Math.max(...out[i]!.map((v, j) => Math.abs(Number(v) / Number(plan.scale) - refs[i]![j]!) / tol[j]!))))
}

const s = await connectChain({ hardfork: 'prague', txGasCap: 16_777_216, blockGasLimit: 30_000_000 })
try {
  await ensureAdminLibrary(s)
  for (const [name, model, rows, batch] of MODELS) {
    const auto = benchPlan(model, rows)
    const uniform = { weights: `int${8 * auto.weightBytes}` as WeightWidth, inputs: 'auto' as const }
    for (const [label, precision] of [['uniform (before)', uniform], ['per layer (auto)', undefined]] as const) {
      const plan = benchPlan(model, rows, precision)
      const m = await measureOurs(s, name, model, rows, batch, 'datacontract', precision)
      console.log(JSON.stringify({ name, label, widths: weightWidthText(plan), lanes: plan.layers.map((l) => `${l.lanes}×${l.laneBits}`).join(' '), predictSingle: Number(m.predictSingle), perRow: m.gasPerRow, deployUpload: Number(m.deploy) + m.upload, mismatches: m.mismatches, errorOverTolerance: +errorShare(model, plan, rows).toFixed(3) }))
    }
  }
} finally {
  await s.close()
}

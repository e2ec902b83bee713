// `bun bench/traceOne.ts [30-4-1|64-128-64-32-10|784-128-10|400-32-16-10|gru_sine|lstm2_sine|gru_bi_cls|attention]`: measure one model alone (default
// config, datacontract layout) and print where its one-predict gas goes (bench/trace.ts).
import path from 'node:path'
import { connectChain } from '../src/chain/connectChain.ts'
import { ensureAdminLibrary } from '../src/chain/ensureAdminLibrary.ts'
import { readAllRows } from '../src/data/readCsv.ts'
import { loadModel } from '../src/model/loadModel.ts'
import { measureOurs, randomModel, randomRows } from './measure.ts'
import { PEER_400_32_16_10, pixelRows } from './peer.ts'
import { ATTENTION_ROW, attentionFixture } from './attention.ts'
import { traceGas, traceSection } from './trace.ts'
import { SEQUENCE_MODELS, sequenceModel } from './sequence.ts'

const which = process.argv[2] ?? '30-4-1'
const layout = (process.argv[3] ?? 'datacontract') as 'datacontract' | 'code' | 'storage'
const s = await connectChain({ hardfork: 'prague', txGasCap: 16_777_216, blockGasLimit: 30_000_000 })
try {
  await ensureAdminLibrary(s)
  const ANCHORS = path.resolve(import.meta.dir, '../test/fixtures/ml2sc')
  const seq = SEQUENCE_MODELS.find((w) => w.dir === which)
  const m = seq
    ? await (async () => {
        const { model, rows } = await sequenceModel(seq)
        return measureOurs(s, seq.name, model, rows, 10, layout, process.env.ML2SC_WEIGHTS ? { weights: process.env.ML2SC_WEIGHTS as 'int16', inputs: (process.env.ML2SC_INPUTS ?? 'auto') as 'int32' } : undefined)
      })()
    : which === 'attention'
      ? await attentionFixture().then((a) => measureOurs(s, ATTENTION_ROW, a.model, a.rows, a.rows.length, layout))
    : which === '30-4-1'
      ? await (async () => {
          const data = await readAllRows(path.join(ANCHORS, 'processed_data.csv'), { label: 'diagnosis', drop: ['id'], limit: 50 })
          const model = await loadModel({ path: path.join(ANCHORS, 'weights/MLP_2L4.json'), source: path.join(ANCHORS, 'models.py'), class: 'MLP_2L4' })
          // ML2SC_WEIGHTS=int16 (say) measures a width the tolerance gate would not choose by itself
          const w = process.env.ML2SC_WEIGHTS as 'int8' | undefined
          return measureOurs(s, which, model, data.features, 50, layout, w ? { weights: w, inputs: 'auto' } : undefined)
        })()
      : await (async () => {
          const sizes = which.split('-').map(Number)
          // the peer's architecture at int8 weights, as in npm run bench (bench/peer.ts)
          const peer = which === '400-32-16-10'
          // as npm run bench: 20 rows for 64-128-64-32-10 (seed 3), 25 for 784-128-10 (seed 5): auto calibrates on the first 20%
          const bench = sizes.length === 5 ? { seed: 3, rows: 20 } : sizes[0] === 784 ? { seed: 5, rows: 25 } : { seed: sizes.length, rows: 4 }
          return measureOurs(s, which, randomModel(sizes, 'identity', peer ? 11 : bench.seed), peer ? pixelRows(4, 400) : randomRows(bench.rows, sizes[0]!), 4, layout, peer ? PEER_400_32_16_10.precision : process.env.ML2SC_WEIGHTS ? { weights: process.env.ML2SC_WEIGHTS as 'int8', inputs: (process.env.ML2SC_INPUTS ?? 'auto') as 'int16', ...(process.env.ML2SC_FRACTION ? { fraction: Number(process.env.ML2SC_FRACTION) } : {}) } : undefined)
        })()
  const { predictHash, ...rest } = m
  console.log(JSON.stringify(rest))
  if (predictHash) {
    const t = await traceGas(s, predictHash)
    console.log(traceSection([{ name: which, trace: t }]).join("\n"))
    console.log(Object.entries(t.byOp).sort((a, b) => b[1] - a[1]).slice(0, 16).map(([k, v]) => `${k} ${v}`).join(", "))
  }
} finally {
  await s.close()
}

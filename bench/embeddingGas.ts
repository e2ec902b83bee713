// Gas of nn.Embedding models (issue 19, the gather): the bench's embed_wine model (2 categorical columns of 6
// and 4, 11 numeric) and a 50-category embedding (bench/largeVocabulary.ts), as `run` plans them, in the
// datacontract (default) and code layouts: one predict transaction and the per-row gas of one batch of all
// rows, every output checked against the simulator. `bun bench/embeddingGas.ts`
import { connectChain } from '../src/chain/connectChain.ts'
import { ensureAdminLibrary } from '../src/chain/ensureAdminLibrary.ts'
import { graphBenchModels } from './graphModels.ts'
import { measureOurs } from './measure.ts'

const s = await connectChain({ hardfork: 'prague', txGasCap: 16_777_216, blockGasLimit: 30_000_000 })
try {
  await ensureAdminLibrary(s)
  for (const g of (await graphBenchModels()).filter((m) => m.name.startsWith('embedding')))
    for (const layout of ['datacontract', 'code'] as const) {
      const m = await measureOurs(s, g.name, g.model, g.rows, g.rows.length, layout)
      console.log(`${g.name} | ${layout} | ${m.precision} | deploy ${m.deploy.toLocaleString('en-US')} | one predict ${m.predictSingle.toLocaleString('en-US')} | per row (${m.batchRows} rows) ${m.gasPerRow.toLocaleString('en-US')} | mismatches ${m.mismatches}`)
    }
} finally {
  await s.close()
}

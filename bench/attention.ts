// The self-attention row of the benchmark (issue 20): the PyTorch-made forecaster of
// scripts/make-attention-fixtures.py, nn.MultiheadAttention(8, 1) over 16 tokens of width 8, mean-pooled
// over the tokens, then Linear(8→1); its 32 test rows. `bun bench/traceOne.ts attention` measures it alone.
import path from 'node:path'
import { readAllRows } from '../src/data/readCsv.ts'
import type { ModelIR } from '../src/ir/types.ts'
import { loadModel } from '../src/model/loadModel.ts'

export const ATTENTION_ROW = 'attention 16×8, 1 head, mean → 1'

export async function attentionFixture(): Promise<{ model: ModelIR; rows: number[][] }> {
  const dir = path.resolve(import.meta.dir, '../test/fixtures/seq/attn_sine')
  const model = await loadModel({ path: path.join(dir, 'state_dict.pt'), source: path.join(dir, 'model.py'), class: 'AttnForecaster', inputShape: [16, 8] })
  const data = await readAllRows(path.join(dir, 'test.csv'), { label: 'next' })
  return { model, rows: data.features }
}

// Issue 19's "Done when": the bench has a residual MLP and an embedding model. Both are real PyTorch
// fixtures read from model.py + state_dict, measured on their own test rows as `ml2sc run` would plan them.
import path from 'node:path'
import { readAllRows } from '../src/data/readCsv.ts'
import type { ModelIR } from '../src/ir/types.ts'
import { loadModel } from '../src/model/loadModel.ts'
import { largeVocabularyModel } from './largeVocabulary.ts'

const FIXTURES = path.resolve(import.meta.dir, '../test/fixtures')

export type GraphBenchModel = { name: string; model: ModelIR; rows: number[][] }

async function fixture(name: string, dir: string, cls: string): Promise<GraphBenchModel> {
  const d = path.join(FIXTURES, dir)
  const model = await loadModel({ path: path.join(d, 'model.state_dict.pt'), source: path.join(d, 'model.py'), class: cls })
  const data = await readAllRows(path.join(d, 'test.csv'), { label: 'label' })
  return { name, model, rows: data.features }
}

/** The residual MLP of custom blocks (13-16-16-16-16-3, two skips), the wine model with two nn.Embedding columns, and an embedding of 50 categories. */
export async function graphBenchModels(): Promise<GraphBenchModel[]> {
  return [
    await fixture('residual MLP (blocks) 13-16×4-3', 'layers/block_wine', 'BlockNet'),
    await fixture('embedding 2 cat + 11 num → 16-3', 'layers/embed_wine', 'TabularNet'),
    largeVocabularyModel(),
  ]
}

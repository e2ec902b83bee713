// An nn.Embedding with a large vocabulary for the bench (issue 19: the gather's gas against `count` one-hot
// MACs): column 0 holds one of 50 categories (an 8-wide table), 11 numeric columns follow, then 16 ReLU, 3
// outputs. Random weights (deterministic); the table is folded through the first Linear as the readers do
// (foldEmbeddings), so the IR is exactly what a PyTorch model of this shape gives.
import { foldEmbeddings } from '../src/ir/foldEmbedding.ts'
import type { ModelIR } from '../src/ir/types.ts'

export const LARGE_VOCABULARY_ROW = 'embedding 50 cat + 11 num → 16-3'

export function largeVocabularyModel(): { name: string; model: ModelIR; rows: number[][] } {
  let x = 2463534242
  const rnd = () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return ((x >>> 0) / 2 ** 32) * 2 - 1
  }
  const [count, dim, numeric, hidden] = [50, 8, 11, 16]
  const table = Float64Array.from({ length: count * dim }, () => rnd())
  const fc1 = Array.from({ length: hidden }, () => Array.from({ length: dim + numeric }, () => rnd() / Math.sqrt(dim + numeric)))
  const take = () => ({ shape: [count, dim], data: table })
  const folded = foldEmbeddings([{ kind: 'embedding', name: 'emb', column: 0 }, { kind: 'columns', from: 1 }], { name: 'fc1', weight: fc1 }, take, 'bench')
  const model: ModelIR = {
    format: 'synthetic',
    inputSize: folded.inputSize,
    categorical: folded.categorical,
    layers: [
      { name: 'fc1', weight: folded.weight, bias: Array.from({ length: hidden }, () => rnd() * 0.1), activation: { kind: 'relu' } },
      { name: 'out', weight: Array.from({ length: 3 }, () => Array.from({ length: hidden }, () => rnd() / 4)), bias: [0.05, -0.02, 0.01], activation: { kind: 'identity' } },
    ],
  }
  // 40 rows: the category cycles through the vocabulary, the numeric features in [-2, 2]
  const rows = Array.from({ length: 40 }, (_, r) => [(r * 7) % count, ...Array.from({ length: numeric }, () => 2 * rnd())])
  return { name: LARGE_VOCABULARY_ROW, model, rows }
}

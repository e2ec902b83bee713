// Issue 19, multi-output models in the differential fuzz: random small CNNs whose flattened output feeds two
// heads (3 class outputs, softmax half the time; a value through a hidden Linear and a random activation),
// and random GRU/LSTM models whose readout feeds two heads, compiled by real solc and run on a real anvil (one
// per file) against the BigInt twin on random rows (uniform, wide, extreme, zeros): 0 mismatches.
import { describe, expect, test } from 'bun:test'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import type { PrecisionSpec } from '../../src/fixed/types.ts'
import { headsLayer } from '../../src/ir/heads.ts'
import type { DenseLayer, ModelIR } from '../../src/ir/types.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { randomCnns } from '../helpers/randomCnn.ts'
import { randomRecurrent } from '../helpers/randomRecurrent.ts'
import { rng } from '../helpers/rng.ts'
import { chainVsTwin, windows } from '../helpers/sequenceChain.ts'

let s: ChainSession
fileChain((c) => (s = c))

const PRECISIONS: PrecisionSpec[] = [
  { fraction: 20, weightBytes: 2, inputBytes: 4 },
  { fraction: 12, weightBytes: 1, inputBytes: 2 },
  { fraction: 24, weightBytes: 3, inputBytes: 5 },
]

/** A recurrent model's readout into two heads: `a` (n outputs, softmax when asked) and `b` (one value). */
function recurrentHeads(seed: number, kind: 'gru' | 'lstm', n: number, softmax: boolean): ModelIR {
  const base = randomRecurrent({ kind, T: 4 + (seed % 3), F: 2, H: 5, heads: [{ n: 1, act: { kind: 'identity' } }] }, seed)
  const r = rng(seed)
  const width = base.layers[0]!.weight[0]!.length
  const dense = (name: string, out: number): DenseLayer => ({ name, weight: Array.from({ length: out }, () => Array.from({ length: width }, () => r() - 0.5)), bias: Array.from({ length: out }, () => (r() - 0.5) / 4), activation: { kind: 'identity' } })
  const a = { ...dense('a', n), ...(softmax ? { activation: { kind: 'softmax' as const } } : {}) }
  const b = { ...dense('b', 1), input: { op: 'concat' as const, values: [0] } }
  const h = headsLayer(['a', 'b'], [{ op: 'concat', values: [1] }, { op: 'concat', values: [2] }], (v) => (v === 1 ? n : 1), 't')
  return { ...base, layers: [a, b, h.layer], heads: h.heads }
}

const CASES: { name: string; model: ModelIR; p: PrecisionSpec }[] = [
  // (seeds 700 and 701 draw a softmax class head)
  ...randomCnns(4, 700, true).map(({ model, describe }, i) => ({ name: `CNN ${describe} → heads cls (${model.layers[0]!.activation.kind}), value`, model, p: PRECISIONS[i % PRECISIONS.length]! })),
  { name: 'GRU(2→5) → heads 3 (softmax) + 1', model: recurrentHeads(31, 'gru', 3, true), p: PRECISIONS[0]! },
  { name: 'LSTM(2→5) → heads 2 + 1', model: recurrentHeads(32, 'lstm', 2, false), p: PRECISIONS[1]! },
]

describe('multi-output models: chain = twin', () => {
  CASES.forEach(({ name, model, p }, i) =>
    test(`${name}, precision ${JSON.stringify(p)}: 0 mismatches on anvil`, async () => {
      expect(model.heads!.map((h) => h.name)).toEqual(name.startsWith('CNN') ? ['cls', 'value'] : ['a', 'b'])
      const plan = makePlan(model, p)
      const c = await chainVsTwin(s, plan, `Heads${i}`, windows(plan, 12, 40 + i))
      expect(c.mismatches).toBe(0)
      expect(c.predicted).toEqual(c.twin)
      expect(c.predicted).toHaveLength(model.heads!.reduce((a, h) => a + h.size, 0))
    }),
  )
})

// Issue 19, graphs inside a conv stack in the differential fuzz: random small CNNs with residual blocks (identity
// skip or a 1×1-conv skip, an activation after the sum or not) and channel concats of two conv branches
// (test/helpers/randomConvGraph.ts), compiled by real solc and run on a real anvil (one per file) against the
// BigInt twin (the simulator) on random rows: 0 mismatches. The simulator's batch path (doubles) and the
// kernels' own reference (convReference) must give the same integers too.
import { describe, expect, test } from 'bun:test'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { convNetReference } from '../../src/codegen/conv/convReference.ts'
import { tensorStepsOf } from '../../src/codegen/conv/tensorStepsOf.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { simulateBatch } from '../../src/fixed/simulateBatch.ts'
import type { PrecisionSpec } from '../../src/fixed/types.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { randomConvGraph } from '../helpers/randomConvGraph.ts'
import { chainVsTwin, windows } from '../helpers/sequenceChain.ts'

let s: ChainSession
fileChain((c) => (s = c))

const PRECISIONS: PrecisionSpec[] = [
  { fraction: 20, weightBytes: 2, inputBytes: 4 },
  { fraction: 12, weightBytes: 1, inputBytes: 2 },
  { fraction: 24, weightBytes: 3, inputBytes: 5 },
]

const CASES = [1, 2, 3, 4, 5, 6, 7, 8].map((seed, i) => ({ ...randomConvGraph(seed + 900), p: PRECISIONS[i % PRECISIONS.length]! }))

describe('graph CNNs (residual add, channel concat): chain = twin', () => {
  test('the random graphs hold both joins, conv skips and branches that read an earlier tensor', () => {
    const kinds = CASES.flatMap((c) => c.model.tensorLayers!.map((l) => l.kind))
    expect(kinds).toContain('add')
    expect(kinds).toContain('concat')
    expect(CASES.some((c) => c.model.tensorLayers!.some((l) => l.kind === 'conv' && l.from !== undefined))).toBe(true)
    // a join that reads the model's input itself
    expect(CASES.some((c) => c.model.tensorLayers!.some((l) => 'values' in l && l.values.includes(0)))).toBe(true)
    // on chain, such a conv reads the earlier tensor in place (its halo is the conv's padding) or through a copy
    const lowered = CASES.map(({ model, p }) => tensorStepsOf(makePlan(model, p)))
    expect(lowered.some((st) => st.some((x) => x.kind === 'conv' && x.reads && x.outShape.h * x.outShape.w > 1))).toBe(true)
    expect(lowered.some((st) => st.some((x) => x.kind === 'concat' && x.reads.length === 1))).toBe(true)
  })

  test('off chain: the simulator, its batch path and the kernels\' reference agree on every row', () => {
    for (const { model, describe, p } of CASES) {
      const plan = makePlan(model, p)
      const rows = windows(plan, 24, 7)
      const steps = tensorStepsOf(plan)
      const one = rows.map((r) => simulate(plan, r).map(String).join())
      expect(rows.map((r) => convNetReference(steps, plan, r).map(String).join()), describe).toEqual(one)
      expect(simulateBatch(plan, rows).map((o) => o.map(String).join()), describe).toEqual(one)
    }
  })

  CASES.forEach(({ model, describe, p }, i) =>
    test(`${describe}, precision ${JSON.stringify(p)}: 0 mismatches on anvil`, async () => {
      const plan = makePlan(model, p)
      const c = await chainVsTwin(s, plan, `ConvGraph${i}`, windows(plan, 16, 60 + i))
      expect(c.mismatches).toBe(0)
      expect(c.predicted).toEqual(c.twin)
    }),
  )
})

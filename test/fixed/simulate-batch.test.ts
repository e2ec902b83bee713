// The batched simulator (src/fixed/simulateBatch.ts: rows in flat Float64Array buffers, dense layers four
// rows at a time or sparse, conv/pool weight reuse across rows) is bit-exact: for every batch size (1, a
// multiple of the 4-row block, and not), dense and mostly-zero rows, MLPs at int8 … int64 widths with every
// activation, random CNNs (strides, padding, dilation, groups, max/avg pools), the MNIST-shaped CNN fixture,
// and rows past 2^53 mixed into a batch, it answers exactly what simulate() answers row by row. It also
// checks that the double path really ran (not only the BigInt fallback) where the bound allows it.
import { describe, expect, test } from 'bun:test'
import path from 'node:path'
import { readAllRows } from '../../src/data/readCsv.ts'
import { encodeRow, encodeRowInto } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { rowsFromBigInts } from '../../src/fixed/numericRows.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { batchable, forwardRows, simulateBatch } from '../../src/fixed/simulateBatch.ts'
import type { Plan, PrecisionSpec } from '../../src/fixed/types.ts'
import type { ModelIR } from '../../src/ir/types.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { edgeRows, KINDS, makeRow } from '../helpers/fuzzRows.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { randomCnns } from '../helpers/randomCnn.ts'
import { rng } from '../helpers/rng.ts'
import { A, chain, NEW_OPS, residualMlp } from '../helpers/syntheticModels.ts'

const P = (fraction: number, weightBytes: number, inputBytes: number, more: Partial<PrecisionSpec> = {}): PrecisionSpec => ({ fraction, weightBytes, inputBytes, ...more })
const SIZES = [1, 2, 3, 4, 5, 7, 8, 13, 33]

/** Random in-range rows of every fuzz kind (refused ones dropped), plus the exact edges of the safe range. */
function rowsFor(plan: Plan, seed: number, n: number, spread = 3): bigint[][] {
  const r = rng(seed)
  const out: bigint[][] = []
  for (let k = 0; out.length < n && k < n * 4; k++) {
    const enc = encodeRow(plan, makeRow(r, plan, KINDS[k % KINDS.length]!, spread))
    if (enc.ok) out.push(enc.values)
  }
  return [...out, ...edgeRows(r, plan)]
}

/** simulateBatch over every batch size equals simulate row by row; returns how many rows compared. */
function expectBatchesExact(plan: Plan, rows: bigint[][], what: string): number {
  const want = rows.map((x) => simulate(plan, x).map(String))
  for (const size of SIZES)
    for (let at = 0; at < rows.length; at += size) {
      const got = simulateBatch(plan, rows.slice(at, at + size)).map((o) => o.map(String))
      expect(got, `${what}, batch of ${size} at row ${at}`).toEqual(want.slice(at, at + size))
    }
  return rows.length
}

/** How many rows the double path answered itself (ok), the rest needing BigInt. */
const doubleRows = (plan: Plan, rows: bigint[][]) => forwardRows(plan, rowsFromBigInts(rows, plan.inputSize)).ok.reduce((a, b) => a + b, 0)

/** `n` rows of features uniform in ±1 (well inside every plan's range, sums far below 2^52 at ≤ 32-bit widths). */
function smallRows(plan: Plan, seed: number, n: number): bigint[][] {
  const r = rng(seed)
  return Array.from({ length: n }, () => (encodeRow(plan, makeRow(r, plan, 'uniform', 1)) as { values: bigint[] }).values)
}

describe('dense models: batches equal simulate() row by row', () => {
  const r = rng(3)
  // the last entry: rows the double path answers itself (the int64 inputs' sums can pass 2^52: none)
  const cases: [string, ModelIR, PrecisionSpec, number?][] = [
    ['relu 20-16-8-3 at int16/int32', chain(r, [20, 16, 8, 3], [A.relu, A.relu, A.identity]), P(20, 2, 4)],
    ['every activation, int8 weights, int16 inputs', chain(r, [6, 9, 7, 8, 5, 4, 3], [A.tanh, A.leaky(0.1), A.sigmoid, A.relu, A.identity, A.softmax]), P(12, 1, 2)],
    ['int32 weights, int64 inputs at 2^40 (edges past 2^53: BigInt)', chain(r, [5, 6, 2], [A.relu, A.identity]), P(40, 4, 8), 0],
    ['unsigned int16 inputs at 2^15', chain(r, [12, 10, 4], [A.relu, A.identity]), P(20, 2, 2, { inputFraction: 15, inputUnsigned: true })],
    ['the new ops (hardtanh … log_softmax)', chain(r, [4, ...NEW_OPS.map(() => 5)], NEW_OPS), P(20, 3, 4)],
    ['784-32-10 (the sparse and the 4-row loops)', chain(r, [784, 32, 10], [A.relu, A.identity]), P(20, 2, 4)],
  ]
  for (const [name, model, spec, inDoubles = 10] of cases)
    test(name, () => {
      const plan = makePlan(model, spec)
      const rows = rowsFor(plan, 7, 40)
      // mostly-zero rows take the sparse loop, full rows the 4-row blocks: both, and mixed
      const sparse = rows.map((x, i) => x.map((v, j) => ((i + j) % 5 ? 0n : v)))
      expect(expectBatchesExact(plan, [...rows, ...sparse], name)).toBeGreaterThan(40)
      expect(doubleRows(plan, smallRows(plan, 1, 10))).toBe(inDoubles)
    })

  test('rows past 2^53 in the middle of a batch go to BigInt; the others stay in doubles', () => {
    const plan = makePlan(chain(rng(5), [16, 4, 2], [A.relu, A.identity]), P(20, 2, 4))
    const ok = smallRows(plan, 9, 10)
    const huge = [2n ** 53n, 2n ** 60n, 2n ** 100n].map((m, k) => Array.from({ length: 16 }, (_, i) => (i % 2 ? -m : m) + BigInt(k)))
    const batch = [ok[0]!, huge[0]!, ...ok.slice(1, 5), huge[1]!, ...ok.slice(5), huge[2]!]
    expectBatchesExact(plan, batch, 'mixed')
    expect(doubleRows(plan, batch)).toBe(10)
    // inputs below 2^53 whose sums could pass 2^52 also leave the double path
    const big = [Array.from({ length: 16 }, () => 2n ** 50n)]
    expectBatchesExact(plan, big, 'sums near 2^53')
    expect(doubleRows(plan, big)).toBe(0)
  })

  test('graph and sequence models run row by row, the same numbers', () => {
    const plan = makePlan(residualMlp(rng(2), 6, 8, 3, A.relu, A.identity), P(20, 2, 4))
    expect(batchable(plan)).toBe(false)
    expectBatchesExact(plan, rowsFor(plan, 4, 12), 'residual')
  })
})

describe('convolutional models: batches equal simulate() row by row', () => {
  test('40 random CNNs (1-D and 2-D, strides, padding, dilation, groups, max/avg/global pools, BN, activations)', () => {
    let compared = 0
    for (const [k, { model, describe }] of randomCnns(40, 11).entries()) {
      const plan = makePlan(model, k % 3 ? P(20, 2, 4) : P(14, 1, 2))
      compared += expectBatchesExact(plan, rowsFor(plan, k, 10), describe)
      expect(doubleRows(plan, smallRows(plan, k, 6)), describe).toBe(6)
    }
    expect(compared).toBeGreaterThan(40 * 20)
  })

  test('the MNIST-shaped CNN fixture (cnn_mnist28) on its 30 test rows', async () => {
    const dir = path.join(FIXTURES, 'cnn_mnist28')
    const model = await loadModel({ path: path.join(dir, 'model.onnx') })
    const plan = makePlan(model, P(20, 2, 4))
    const { features } = await readAllRows(path.join(dir, 'test.csv'), { label: 'label' })
    const rows = features.map((f) => encodeRow(plan, f)).flatMap((e) => (e.ok ? [e.values] : []))
    expect(rows.length).toBe(30)
    expectBatchesExact(plan, rows, 'cnn_mnist28')
    expect(doubleRows(plan, rows)).toBe(30)
  })
})

describe('encodeRowInto', () => {
  test('writes exactly encodeRow’s integers and refuses exactly its rows, with its words', () => {
    for (const spec of [P(20, 2, 4), P(12, 1, 2, { inputFraction: 10, inputUnsigned: true }), P(40, 2, 8), P(16, 2, 6)]) {
      const plan = makePlan(chain(rng(1), [8, 3], [A.identity]), spec)
      const r = rng(8)
      for (let k = 0; k < 400; k++) {
        const f = makeRow(r, plan, KINDS[k % KINDS.length]!, 4)
        const x = new Float64Array(plan.inputSize * 2).fill(7)
        const enc = encodeRow(plan, f, ['a', 'b'])
        const into = encodeRowInto(plan, f, ['a', 'b'], x, 1)
        if (!enc.ok) expect(into).toEqual({ error: enc.error })
        else {
          expect('exact' in into).toBe(true)
          if ((into as { exact: boolean }).exact) expect(Array.from(x.subarray(plan.inputSize), (v) => BigInt(v))).toEqual(enc.values)
          else expect(enc.values.some((v) => v >= 2n ** 53n || v <= -(2n ** 53n))).toBe(true)
          expect(Array.from(x.subarray(0, plan.inputSize))).toEqual(new Array(plan.inputSize).fill(7))
        }
      }
    }
  })
})

// Adversarial review (branch layers): nn.Embedding columns on chain (one-hot in the code layout, gathered otherwise). Raw calldata rows with
// negative, huge, fractional-encoded and boundary category values through predict and predictBatch, on a
// real anvil, for signed, unsigned and own-input-scale precisions: the contract must revert
// BadCategory(row, feature, value) exactly where the simulator refuses, and equal it bit for bit elsewhere.
import { describe, expect, test } from 'bun:test'
import { decodeErrorResult, encodeFunctionData, type Hex } from 'viem'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { packRowWords, packRows } from '../../src/fixed/encodeRows.ts'
import { inputScaleOf, type Plan, type PrecisionSpec } from '../../src/fixed/types.ts'
import type { ModelIR } from '../../src/ir/types.ts'
import { deployCnn } from '../helpers/deployCnn.ts'
import type { WeightLayout } from '../../src/codegen/generateSolidity.ts'
import { fileChain } from '../helpers/fileChain.ts'

let s: ChainSession
fileChain((x) => (s = x))

/** Columns 0 and 2 categorical (4 and 3 categories), column 1 and 3 numeric. */
function model(): ModelIR {
  const cats = [
    { column: 0, count: 4, name: 'e0' },
    { column: 2, count: 3, name: 'e2' },
  ]
  const nIn = 4 + 1 + 3 + 1
  const w = (o: number, i: number) => Math.sin(o * 5.3 + i * 2.9) * 0.6
  return {
    format: 'synthetic',
    inputSize: 4,
    categorical: cats,
    layers: [
      { name: 'fc1', weight: Array.from({ length: 6 }, (_, o) => Array.from({ length: nIn }, (_, i) => w(o, i))), bias: Array.from({ length: 6 }, (_, o) => 0.05 * o), activation: { kind: 'relu' } },
      { name: 'out', weight: Array.from({ length: 2 }, (_, o) => Array.from({ length: 6 }, (_, i) => w(o + 11, i))), bias: [0.1, -0.1], activation: { kind: 'identity' } },
    ],
  }
}

type Outcome = { revert: unknown[] } | { out: string[] }

async function attack(p: PrecisionSpec, name: string, layout: WeightLayout) {
  const plan: Plan = makePlan(model(), p)
  const { compiled, address } = await deployCnn(s, plan, name, layout)
  const S = inputScaleOf(plan)
  const call = async (fn: 'predict' | 'predictBatch', rows: bigint[][]): Promise<Outcome> => {
    const args = fn === 'predict' ? [packRowWords(plan, rows[0]!)] : [packRows(plan, rows)]
    const data = encodeFunctionData({ abi: compiled.abi, functionName: fn, args } as never)
    try {
      const { data: ret } = await s.publicClient.call({ account: s.account, to: address, data, gas: 16_000_000n })
      return { out: [ret!] }
    } catch (e) {
      const raw = (e as { walk: (f: (x: unknown) => boolean) => { data?: Hex } | null }).walk((x) => typeof (x as { data?: unknown }).data === 'string')?.data
      const d = decodeErrorResult({ abi: compiled.abi, data: raw! })
      return { revert: [d.errorName, ...(d.args ?? [])] }
    }
  }
  const sim = (row: bigint[]): string => {
    try {
      return simulate(plan, row).map(String).join()
    } catch (e) {
      return `refused: ${(e as Error).message}`
    }
  }
  return { plan, S, call, sim, compiled, address }
}

// the adversarial values of a categorical feature (raw units at the input scale S)
const values = (plan: Plan, S: bigint, count: number) => [
  0n, S, BigInt(count - 1) * S, // boundary categories: accepted
  BigInt(count) * S, BigInt(count) * S - 1n, BigInt(count - 1) * S + 1n, // just past / inside the last one
  -1n, 1n, S / 2n, S - 1n, -S, -BigInt(count) * S, // negative, fractional-encoded
  plan.inputMin, plan.inputMax, plan.inputMax - (plan.inputMax % S), // the calldata extremes, the largest whole multiple
]

const PRECISIONS: [string, PrecisionSpec][] = [
  ['signed int32 inputs at 2^20', { fraction: 20, weightBytes: 2, inputBytes: 4 }],
  ['int16 inputs at their own scale 2^8', { fraction: 20, weightBytes: 2, inputBytes: 2, inputFraction: 8 }],
  ['unsigned int16 inputs at 2^8', { fraction: 16, weightBytes: 2, inputBytes: 2, inputFraction: 8, inputUnsigned: true }],
]

// `code`: lane words are constants, the one-hot vector is written; `datacontract` (embedded) and `storage`: the
// category's weight column is gathered from the blob
const LAYOUTS: WeightLayout[] = ['code', 'datacontract', 'storage']

describe('review: nn.Embedding categories on chain against raw calldata', () => {
  PRECISIONS.flatMap(([what, p], k) => LAYOUTS.map((layout) => [`${what}, layout ${layout}`, p, `RevCat${k}${layout}`, layout] as const)).forEach(([what, p, name, layout]) =>
    test(`${what}: chain reverts BadCategory exactly where the simulator refuses, equals it elsewhere (predict and predictBatch)`, async () => {
      const { plan, S, call, sim } = await attack(p, name, layout)
      const good = [2n * S, S / 4n, S, -S / 8n].map((v) => (v < plan.inputMin ? plan.inputMin : v))
      let refusedBoth = 0
      let agreed = 0
      for (const col of [0, 2]) {
        const count = col === 0 ? 4 : 3
        for (const v of values(plan, S, count)) {
          if (v < plan.inputMin || v > plan.inputMax) continue
          const row = good.slice()
          row[col] = v
          const expected = sim(row)
          const one = await call('predict', [row])
          // in a batch: third row
          const many = await call('predictBatch', [good, good, row])
          if (expected.startsWith('refused')) {
            expect({ v, col, one }).toEqual({ v, col, one: { revert: ['BadCategory', 0n, BigInt(col), v] } })
            expect({ v, col, many }).toEqual({ v, col, many: { revert: ['BadCategory', 2n, BigInt(col), v] } })
            refusedBoth++
          } else {
            expect('out' in one).toBe(true)
            const dec = (hex: string) => BigInt.asIntN(256, BigInt('0x' + hex))
            const words = (one as { out: string[] }).out[0]!.slice(2).match(/.{64}/g)!.map(dec)
            // predict returns an int256[]: offset, length, values
            expect({ v, col, out: words.slice(2).map(String).join() }).toEqual({ v, col, out: expected })
            expect('out' in many).toBe(true)
            agreed++
          }
        }
      }
      console.log(`${what}: ${refusedBoth} adversarial values refused on both sides, ${agreed} accepted and equal`)
      expect(agreed).toBeGreaterThanOrEqual(6)
      expect(refusedBoth).toBeGreaterThanOrEqual(16)
    }, 300_000),
  )
})

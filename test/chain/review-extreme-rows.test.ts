// Adversarial review after issue 18: predict on rows at the edges of the input width (every feature at
// inputMin or inputMax, alternating, and uniform over the whole width) answers exactly what the bit-exact
// simulator answers. A caller may send any packed row; the plan claims the whole width is safe.
import { beforeAll, describe, expect, test } from 'bun:test'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { ensureAdminLibrary } from '../../src/chain/ensureAdminLibrary.ts'
import { generateSolidity, type WeightLayout } from '../../src/codegen/generateSolidity.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import type { Activation } from '../../src/ir/types.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { creationCode, deployRaw, predictOf, withImmutables } from '../helpers/forgery.ts'
import { randomMlp } from '../helpers/randomMlp.ts'
import { rng } from '../helpers/rng.ts'

let s: ChainSession
fileChain((c) => (s = c))
beforeAll(async () => await ensureAdminLibrary(s), 120_000)

const CASES: { last: Exclude<Activation['kind'], 'leaky_relu'>; inputBytes: number; weightBytes: number; fraction: number; layout: WeightLayout }[] = [
  { last: 'identity', inputBytes: 4, weightBytes: 2, fraction: 16, layout: 'code' },
  { last: 'sigmoid', inputBytes: 4, weightBytes: 2, fraction: 16, layout: 'datacontract' },
  { last: 'tanh', inputBytes: 2, weightBytes: 1, fraction: 12, layout: 'code' },
  { last: 'softmax', inputBytes: 1, weightBytes: 2, fraction: 16, layout: 'datacontract' },
  { last: 'gelu', inputBytes: 4, weightBytes: 4, fraction: 24, layout: 'code' },
]

describe('review: rows at the edges of the input width', () => {
  for (const [k, c] of CASES.entries()) {
    test(`${c.last}, int${8 * c.inputBytes} inputs, int${8 * c.weightBytes} weights, ${c.layout}`, async () => {
      const plan = makePlan(randomMlp([6, 10, 3], 700 + k, { last: c.last, bias: 0.5 }), { fraction: c.fraction, weightBytes: c.weightBytes, inputBytes: c.inputBytes })
      const compiled = compileSolidity(generateSolidity(plan, { contractName: 'E', layout: c.layout, embedWeights: true }), 'E')
      const address = await deployRaw(s, creationCode(withImmutables(compiled.deployedBytecode, compiled.immutables, BigInt(s.account.address))))
      const lo = plan.inputMin
      const hi = plan.inputMax
      const r = rng(900 + k)
      const span = hi - lo + 1n
      const uniform = () => lo + (BigInt(Math.floor(r() * 2 ** 26)) * span) / 2n ** 26n
      const n = plan.inputSize
      const rows: bigint[][] = [
        Array(n).fill(lo), Array(n).fill(hi), Array.from({ length: n }, (_, i) => (i % 2 ? lo : hi)), Array.from({ length: n }, (_, i) => (i % 2 ? hi : lo)),
        ...Array.from({ length: 12 }, () => Array.from({ length: n }, uniform)),
      ]
      const bad: string[] = []
      for (const row of rows) {
        const want = simulate(plan, row)
        const got = await predictOf(s, address, compiled.abi, plan, row)
        if (!got || got.length !== want.length || got.some((v, j) => v !== want[j])) bad.push(`row ${row.join(',')}: chain ${got?.join('/') ?? 'reverts'}, simulator ${want.join('/')}`)
      }
      expect(bad).toEqual([])
    }, 240_000)
  }
})

// Self-attention on chain (issue 20): random MultiheadAttention models (1–4 heads, mean / last / flatten
// pooling, dense heads) compiled by real solc, deployed on a real anvil (with the EIP-7825 cap), against the
// BigInt twin bit for bit on random windows (uniform, wide, the range's extremes, zeros); the twin against
// the float reference; and the gas of the issue's target, 1-head attention over 16 tokens of width 8.
import { describe, expect, test } from 'bun:test'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import type { PrecisionSpec } from '../../src/fixed/types.ts'
import type { Activation } from '../../src/ir/types.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { randomAttention, type AttentionSpec } from '../helpers/randomAttention.ts'
import { rng } from '../helpers/rng.ts'
import { chainVsTwin, windows } from '../helpers/sequenceChain.ts'

let s: ChainSession
fileChain((c) => (s = c))

const id: Activation = { kind: 'identity' }
const P: PrecisionSpec = { fraction: 20, weightBytes: 2, inputBytes: 4 }

const CASES: { spec: AttentionSpec; p?: Partial<PrecisionSpec> }[] = [
  { spec: { T: 16, E: 8, heads: 1, pool: 'mean', head: [{ n: 1, act: id }] } },
  { spec: { T: 16, E: 8, heads: 2, pool: 'last', head: [{ n: 3, act: { kind: 'softmax' } }] } },
  { spec: { T: 5, E: 12, heads: 4, pool: 'flatten', head: [{ n: 4, act: { kind: 'relu' } }, { n: 2, act: { kind: 'sigmoid' } }], wScale: 2 } },
  { spec: { T: 7, E: 6, heads: 3, pool: 'mean', head: [{ n: 2, act: { kind: 'tanh' } }] }, p: { weightBytes: 1, inputBytes: 2, fraction: 12 } },
  { spec: { T: 32, E: 4, heads: 2, pool: 'last', head: [{ n: 1, act: id }], wScale: 3 }, p: { weightBytes: 3, fraction: 24, inputBytes: 5 } },
  // TransformerEncoderLayer: post-norm relu (sum pooling), pre-norm gelu (last token), post-norm gelu (flatten)
  { spec: { T: 8, E: 8, heads: 2, pool: 'mean', head: [{ n: 3, act: id }], encoder: { normFirst: false, act: { kind: 'relu' }, dff: 16 } } },
  { spec: { T: 6, E: 4, heads: 1, pool: 'last', head: [{ n: 1, act: id }], encoder: { normFirst: true, act: { kind: 'gelu', approximate: 'none' }, dff: 8 } } },
  { spec: { T: 4, E: 6, heads: 3, pool: 'flatten', head: [{ n: 2, act: { kind: 'softmax' } }], encoder: { normFirst: false, act: { kind: 'gelu', approximate: 'none' }, dff: 12 } }, p: { weightBytes: 1, inputBytes: 2, fraction: 12 } },
]

describe('attention models: chain = twin', () => {
  CASES.forEach(({ spec, p }, i) => {
    const name = `${spec.encoder ? `encoder(${spec.encoder.normFirst ? 'pre' : 'post'}-norm ${spec.encoder.act.kind}) ` : ''}MHA(${spec.E}, ${spec.heads} heads)×${spec.T} ${spec.pool} → ${spec.head.map((h) => h.n).join('→')}`
    test(`${name}, precision ${JSON.stringify({ ...P, ...p })}: 0 mismatches on anvil`, async () => {
      const model = randomAttention(spec, 300 + i)
      const plan = makePlan(model, { ...P, ...p })
      const c = await chainVsTwin(s, plan, `Attn${i}`, windows(plan, 16, 11 + i))
      expect(c.runtimeBytes).toBeLessThanOrEqual(24_576)
      expect(c.mismatches).toBe(0)
      expect(c.predicted).toEqual(c.twin)
      const { gas } = c
      console.log(`${name}: one predict ${gas.toLocaleString('en-US')} gas (${Math.round((gas - 21_000) / spec.T).toLocaleString('en-US')} per token above the base), code ${c.runtimeBytes} bytes`)
      if (i === 0) expect(gas).toBeLessThanOrEqual(600_000)
    }, 300_000)
  })
})

describe('attention models: twin ≈ float reference', () => {
  for (const pool of ['mean', 'last', 'flatten'] as const)
    test(`${pool} pooling, 2 heads: the fixed-point twin at 2^20 is within 1e-4 of the float reference over 100 windows`, () => {
      const model = randomAttention({ T: 10, E: 8, heads: 2, pool, head: [{ n: 2, act: id }] }, 5)
      const plan = makePlan(model, P)
      const r = rng(9)
      let worst = 0
      for (let n = 0; n < 100; n++) {
        const x = Array.from({ length: plan.inputSize }, () => Math.round((r() * 2 - 1) * 2 * 2 ** 20) / 2 ** 20)
        const f = referenceForward(model, x)
        const q = simulate(plan, x.map((v) => BigInt(Math.round(v * 2 ** 20))))
        f.forEach((v, k) => (worst = Math.max(worst, Math.abs(Number(q[k]!) / 2 ** 20 - v))))
      }
      console.log(`${pool}: twin vs float, worst ${worst.toExponential(2)}`)
      expect(worst).toBeLessThan(1e-4)
      expect(worst).toBeGreaterThan(0)
    })
})

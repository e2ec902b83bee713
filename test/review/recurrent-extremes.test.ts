// Adversarial review (branch seq2): bidirectional and 2-layer GRU/LSTM at the widest input width the plan
// accepts (up to int248), T = 1 and asymmetric windows (only the first or only the last step
// extreme: the reverse direction reads them in the other order), every feature at the range's max or min.
// On a real anvil the contract must equal the BigInt twin bit for bit.
import { describe, expect, test } from 'bun:test'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import type { Plan, PrecisionSpec } from '../../src/fixed/types.ts'
import type { Activation } from '../../src/ir/types.ts'
import { deployCnn } from '../helpers/deployCnn.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { randomRecurrent, type RecurrentSpec } from '../helpers/randomRecurrent.ts'
import { rng } from '../helpers/rng.ts'

let s: ChainSession
fileChain((c) => (s = c))
const id: Activation = { kind: 'identity' }

function extremes(plan: Plan, T: number, F: number, seed: number): bigint[][] {
  const { inputMin: lo, inputMax: hi } = plan
  const n = T * F
  const r = rng(seed)
  const step = (i: number) => Math.floor(i / F)
  const out: bigint[][] = [
    new Array<bigint>(n).fill(hi),
    new Array<bigint>(n).fill(lo),
    new Array<bigint>(n).fill(0n),
    Array.from({ length: n }, (_, i) => (step(i) % 2 ? hi : lo)),
    Array.from({ length: n }, (_, i) => (step(i) === 0 ? hi : 0n)),
    Array.from({ length: n }, (_, i) => (step(i) === T - 1 ? lo : 0n)),
    Array.from({ length: n }, (_, i) => (step(i) === 0 ? lo : hi)),
  ]
  for (let k = 0; k < 5; k++) out.push(Array.from({ length: n }, () => (r() < 0.5 ? lo : hi)))
  return out
}

function widest(spec: RecurrentSpec, seed: number, p: Omit<PrecisionSpec, 'inputBytes'>): number {
  let ok = 0
  for (let ib = 1; ib <= 31; ib++) {
    try {
      makePlan(randomRecurrent(spec, seed), { ...p, inputBytes: ib })
      ok = ib
    } catch {
      break
    }
  }
  return ok
}

const CASES: { spec: RecurrentSpec; p: Omit<PrecisionSpec, 'inputBytes'> }[] = [
  { spec: { kind: 'gru', T: 5, F: 2, H: 4, heads: [{ n: 2, act: id }], dirs: 2, readout: [{ hn: -2 }, { hn: -1 }], wScale: 2 }, p: { fraction: 20, weightBytes: 2 } },
  { spec: { kind: 'lstm', T: 4, F: 2, H: 3, heads: [{ n: 1, act: id }], dirs: 2, layers: 2, readout: [{ out: -1 }] }, p: { fraction: 16, weightBytes: 1 } },
  { spec: { kind: 'gru', T: 1, F: 3, H: 4, heads: [{ n: 2, act: { kind: 'softmax' } }], dirs: 2, readout: [{ seq: true }] }, p: { fraction: 20, weightBytes: 2 } },
  { spec: { kind: 'lstm', T: 3, F: 1, H: 4, heads: [{ n: 1, act: id }], dirs: 2, readout: [{ out: 0 }] }, p: { fraction: 24, weightBytes: 3 } },
]

describe('review: bidirectional / 2-layer recurrences at the widest accepted inputs', () => {
  CASES.forEach(({ spec, p }, i) => {
    const name = `${spec.layers === 2 ? '2-layer ' : ''}${spec.dirs === 2 ? 'bidirectional ' : ''}${spec.kind.toUpperCase()}(${spec.F}→${spec.H})×${spec.T} ${JSON.stringify(spec.readout)}`
    test(`${name}: chain = twin on extreme and asymmetric windows at int32 and at the widest width`, async () => {
      const w = widest(spec, 60 + i, p)
      expect(w).toBeGreaterThanOrEqual(2)
      expect(w).toBeLessThanOrEqual(31)
      for (const ib of [...new Set([Math.min(4, w), w])]) {
        const plan = makePlan(randomRecurrent(spec, 60 + i), { ...p, inputBytes: ib })
        const rows = extremes(plan, spec.T, spec.F, 5 + i)
        const c = await deployCnn(s, plan, `RecX${i}_${ib}`)
        const { outputs } = await c.batch(rows)
        const bad = rows.flatMap((row, k) => (outputs[k]!.map(String).join() === simulate(plan, row).map(String).join() ? [] : [k]))
        expect({ ib, bad }).toEqual({ ib, bad: [] })
        console.log(`${name}: int${8 * ib} inputs (widest accepted int${8 * w}), ${rows.length} extreme windows, chain = twin`)
      }
    }, 300_000)
  })
})

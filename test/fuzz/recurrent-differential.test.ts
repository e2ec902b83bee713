// Sequence models on chain (issue 20): random GRU/LSTM models compiled by real solc, deployed on a real
// anvil (with the EIP-7825 cap), against the BigInt twin bit for bit, on random windows (uniform, wide,
// extreme, zeros; 16 a model, each kind 4 times). Also the float reference against the twin (the approximation error stays small), and
// gas per predict of the issue's target model, GRU(1→16) over 16 steps + Linear(16→1).
import { describe, expect, test } from 'bun:test'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { buildModel } from '../../src/ir/buildModel.ts'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { recurrentPinOf } from '../../src/fixed/recurrentPlanTypes.ts'
import { pinOf, type PrecisionSpec } from '../../src/fixed/types.ts'
import type { Activation } from '../../src/ir/types.ts'
import { deployCnn } from '../helpers/deployCnn.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { randomRecurrent, type RecurrentSpec } from '../helpers/randomRecurrent.ts'
import { rng } from '../helpers/rng.ts'
import { chainVsTwin, windows } from '../helpers/sequenceChain.ts'

let s: ChainSession
fileChain((c) => (s = c))

const id: Activation = { kind: 'identity' }
const P: PrecisionSpec = { fraction: 20, weightBytes: 2, inputBytes: 4 }

const CASES: { spec: RecurrentSpec; p?: Partial<PrecisionSpec> }[] = [
  { spec: { kind: 'gru', T: 16, F: 1, H: 16, heads: [{ n: 1, act: id }] } },
  { spec: { kind: 'gru', T: 5, F: 3, H: 7, heads: [{ n: 4, act: { kind: 'relu' } }, { n: 3, act: { kind: 'softmax' } }], wScale: 3 } },
  { spec: { kind: 'lstm', T: 16, F: 1, H: 16, heads: [{ n: 1, act: id }] } },
  { spec: { kind: 'lstm', T: 6, F: 2, H: 5, heads: [{ n: 2, act: { kind: 'sigmoid' } }], wScale: 3 }, p: { weightBytes: 1, inputBytes: 2, fraction: 12 } },
  { spec: { kind: 'gru', T: 3, F: 4, H: 12, heads: [{ n: 2, act: { kind: 'tanh' } }] }, p: { weightBytes: 3, fraction: 24, inputBytes: 5 } },
  { spec: { kind: 'gru', T: 8, F: 2, H: 8, heads: [{ n: 1, act: id }], layers: 2 } },
  { spec: { kind: 'lstm', T: 7, F: 3, H: 6, heads: [{ n: 3, act: { kind: 'softmax' } }], layers: 2, wScale: 2 } },
  // bidirectional, 2-layer, and the readouts forward() can take (issue 20, part 2)
  { spec: { kind: 'gru', T: 6, F: 2, H: 5, heads: [{ n: 3, act: { kind: 'softmax' } }], dirs: 2, readout: [{ hn: -2 }, { hn: -1 }], wScale: 2 } },
  { spec: { kind: 'lstm', T: 5, F: 3, H: 4, heads: [{ n: 2, act: id }], dirs: 2, layers: 2, readout: [{ out: -1 }] }, p: { weightBytes: 1, inputBytes: 2, fraction: 12 } },
  { spec: { kind: 'gru', T: 6, F: 1, H: 6, heads: [{ n: 4, act: { kind: 'relu' } }, { n: 1, act: id }], layers: 2, readout: [{ seq: true }] } },
  { spec: { kind: 'gru', T: 4, F: 2, H: 3, heads: [{ n: 2, act: id }], dirs: 2, layers: 2, readout: [{ seq: true }, { hn: 0 }], wScale: 3 } },
  { spec: { kind: 'lstm', T: 8, F: 1, H: 8, heads: [{ n: 1, act: id }], layers: 2, readout: [{ hn: 0 }, { out: 2 }] } },
]

describe('sequence models: chain = twin', () => {
  CASES.forEach(({ spec, p }, i) => {
    const name = `${spec.layers === 2 ? '2-layer ' : ''}${spec.dirs === 2 ? 'bidirectional ' : ''}${spec.kind.toUpperCase()}(${spec.F}→${spec.H})×${spec.T}${spec.readout ? ` (${JSON.stringify(spec.readout)})` : ''} → ${spec.heads.map((h) => h.n).join('→')}`
    test(`${name}, precision ${JSON.stringify({ ...P, ...p })}: 0 mismatches on anvil`, async () => {
      const model = randomRecurrent(spec, 100 + i)
      const plan = makePlan(model, { ...P, ...p })
      const c = await chainVsTwin(s, plan, `Seq${i}`, windows(plan, 16, 7 + i))
      expect(c.runtimeBytes).toBeLessThanOrEqual(24_576)
      expect(c.mismatches).toBe(0)
      expect(c.predicted).toEqual(c.twin)
      const { gas } = c
      console.log(`${name}: one predict ${gas.toLocaleString('en-US')} gas (${Math.round((gas - 21_000) / spec.T).toLocaleString('en-US')} per step above the base), code ${c.runtimeBytes} bytes`)
      if (i === 0) expect(gas).toBeLessThanOrEqual(400_000)
    }, 300_000)
  })
})

describe('sequence models: twin ≈ float reference', () => {
  for (const [kind, layers, dirs] of [['gru', 1, 1], ['lstm', 1, 1], ['gru', 2, 1], ['lstm', 2, 1], ['gru', 2, 2], ['lstm', 1, 2]] as const)
    test(`${layers}-layer ${dirs === 2 ? 'bidirectional ' : ''}${kind}: the fixed-point twin at 2^20 is within 1e-4 of the float reference over 100 windows`, () => {
      const model = randomRecurrent({ kind, T: 12, F: 2, H: 8, heads: [{ n: 2, act: id }], layers, dirs, readout: dirs === 2 ? [{ hn: -2 }, { hn: -1 }] : undefined }, 5)
      const plan = makePlan(model, P)
      const r = rng(9)
      let worst = 0
      for (let n = 0; n < 100; n++) {
        const x = Array.from({ length: 24 }, () => (r() * 2 - 1) * 4)
        const q = x.map((v) => BigInt(Math.round(v * 2 ** 20)))
        const fx = simulate(plan, q).map((v) => Number(v) / 2 ** 20)
        const fl = referenceForward(model, q.map((v) => Number(v) / 2 ** 20))
        fx.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - fl[j]!))))
      }
      expect(worst).toBeLessThan(1e-4)
      expect(worst).toBeGreaterThan(0)
    })
})

describe('sequence models: gas per time step', () => {
  test('GRU(1→16) + Linear(16→1): the same weights over 8 and 16 steps; the difference / 8 is the gas of one step', async () => {
    const gas: number[] = []
    for (const T of [8, 16]) {
      const model = randomRecurrent({ kind: 'gru', T, F: 1, H: 16, heads: [{ n: 1, act: id }] }, 100)
      const plan = makePlan(model, P)
      // over 16 steps: the model of the first chain case (seed 100), under its name, so its compiled contract is reused
      const c = await deployCnn(s, plan, T === 16 ? 'Seq0' : `Steps${T}`)
      const row = windows(plan, 1, 3)[0]!
      expect((await c.predict(row)).map(String)).toEqual(simulate(plan, row).map(String))
      gas.push(await c.predictTxGas(row))
    }
    const perStep = (gas[1]! - gas[0]!) / 8
    console.log(`GRU(1→16): ${gas[0]!.toLocaleString('en-US')} gas over 8 steps, ${gas[1]!.toLocaleString('en-US')} over 16: ${perStep.toLocaleString('en-US')} per step`)
    expect(perStep).toBeGreaterThan(10_000)
    expect(perStep).toBeLessThanOrEqual(24_000)
  }, 300_000)
})

describe('sequence models: an update keeps the deployed contract\'s scales and lanes', () => {
  test('new weights that fit are planned at the pinned scale; ones that do not, or another layer count, are refused', () => {
    const spec: RecurrentSpec = { kind: 'lstm', T: 6, F: 2, H: 5, heads: [{ n: 2, act: id }] }
    const plan = makePlan(randomRecurrent(spec, 1), P)
    const pin = pinOf(plan)
    const smaller = randomRecurrent(spec, 2)
    for (const row of [...smaller.recurrent!.weightIh, ...smaller.recurrent!.weightHh]) row.forEach((w, i) => (row[i] = w * 0.5))
    const updated = makePlan(smaller, P, pin)
    expect(recurrentPinOf(updated.recurrent!)).toBe(recurrentPinOf(plan.recurrent!))
    const bigger = randomRecurrent({ ...spec, wScale: 8 }, 3)
    expect(() => makePlan(bigger, P, pin)).toThrow(/deploy the new model|too large/)
    expect(() => makePlan(randomRecurrent({ ...spec, layers: 2 }, 4), P, pin)).toThrow(/has 2 layer\(s\) × 1 direction\(s\).*; the deployed contract has 1 layer/)
  })
})

test('bidirectional / readout pins: the same shape updates in place; another readout or direction count is refused', () => {
  const spec: RecurrentSpec = { kind: 'gru', T: 5, F: 2, H: 4, heads: [{ n: 2, act: id }], dirs: 2, layers: 2, readout: [{ hn: -2 }, { hn: -1 }] }
  const plan = makePlan(randomRecurrent(spec, 1), P)
  const pin = pinOf(plan)
  expect(recurrentPinOf(makePlan(randomRecurrent(spec, 2), P, pin).recurrent!)).toBe(recurrentPinOf(plan.recurrent!))
  expect(() => makePlan(randomRecurrent({ ...spec, readout: [{ out: -1 }] }, 2), P, pin)).toThrow(/readout \[\[1,0,4\],\[1,1,4\]\]; the deployed contract has 2 layer\(s\) × 2 direction\(s\), readout \[\[1,0,4\],\[1,1,0\]\]/)
  expect(() => makePlan(randomRecurrent({ ...spec, dirs: 1, readout: [{ hn: -1 }, { hn: 0 }] }, 2), P, pin)).toThrow(/× 1 direction\(s\).*; the deployed contract has 2 layer\(s\) × 2 direction/)
})

test('bias=False: a GRU whose state_dict has no bias tensors gets zero biases', () => {
  const m = randomRecurrent({ kind: 'gru', T: 3, F: 1, H: 2, heads: [{ n: 1, act: id }] }, 3)
  const r = m.recurrent!
  const t = (rows: number[][]) => ({ shape: [rows.length, rows[0]!.length], data: Float64Array.from(rows.flat()) })
  const tensors = new Map([['g.weight_ih_l0', t(r.weightIh)], ['g.weight_hh_l0', t(r.weightHh)], ['fc.weight', t(m.layers[0]!.weight)], ['fc.bias', { shape: [1], data: Float64Array.from(m.layers[0]!.bias) }]])
  const ir = buildModel([{ op: 'gru', name: 'g' }, { op: 'linear', name: 'fc' }], tensors, 'synthetic', 'x.pt', [3, 1])
  expect(ir.recurrent!.biasIh).toEqual([0, 0, 0, 0, 0, 0])
  expect(ir.recurrent!.biasHh).toEqual([0, 0, 0, 0, 0, 0])
  const plan = makePlan(ir, P)
  expect(simulate(plan, [1n << 20n, 0n, -(1n << 20n)]).length).toBe(1)
})

test('an MLP cannot update a sequence model\'s contract, nor a sequence model an MLP\'s', () => {
  const seq = makePlan(randomRecurrent({ kind: 'gru', T: 4, F: 1, H: 4, heads: [{ n: 1, act: id }] }, 1), P)
  const mlp = { format: 'synthetic', inputSize: 4, layers: [{ name: 'fc0', weight: [[0.1, 0.2, 0.3, 0.4]], bias: [0], activation: id }] }
  expect(() => makePlan(mlp, P, pinOf(seq))).toThrow(/has no GRU\/LSTM layer; the deployed contract has/)
  expect(() => makePlan(randomRecurrent({ kind: 'gru', T: 4, F: 1, H: 4, heads: [{ n: 1, act: id }] }, 1), P, pinOf(makePlan(mlp, P)))).toThrow(/has GRU\/LSTM layer; the deployed contract has none/)
})

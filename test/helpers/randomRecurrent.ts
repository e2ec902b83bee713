// Random GRU/LSTM sequence models (weights uniform in ±1/√H as PyTorch initialises them), for the tests.
import { resolveReadout } from '../../src/ir/buildRecurrent.ts'
import { readoutOf, type ReadoutSpec, type RecurrentLayer } from '../../src/ir/recurrentTypes.ts'
import type { Activation, ModelIR } from '../../src/ir/types.ts'
import { rng } from './rng.ts'

export type RecurrentSpec = {
  kind: 'gru' | 'lstm'
  T: number
  F: number
  H: number
  heads: { n: number; act: Activation }[]
  wScale?: number
  layers?: 1 | 2
  /** bidirectional: 2 */
  dirs?: 1 | 2
  /** what the heads take (PyTorch's forms, resolved as buildRecurrent does); default the last state */
  readout?: ReadoutSpec[]
}

export function randomRecurrent(spec: RecurrentSpec, seed: number): ModelIR {
  const r = rng(seed)
  const G = spec.kind === 'gru' ? 3 : 4
  const k = (spec.wScale ?? 1) / Math.sqrt(spec.H)
  const u = () => (r() * 2 - 1) * k
  const mat = (rows: number, cols: number) => Array.from({ length: rows }, () => Array.from({ length: cols }, u))
  const L = spec.layers ?? 1
  const D = spec.dirs ?? 1
  const cell = (l: number, rev: boolean): RecurrentLayer => {
    const inF = l ? D * spec.H : spec.F
    return {
      kind: spec.kind,
      name: `${spec.kind}${l ? `.l${l}` : ''}${rev ? '.reverse' : ''}`,
      steps: spec.T,
      features: inF,
      hidden: spec.H,
      weightIh: mat(G * spec.H, inF),
      weightHh: mat(G * spec.H, spec.H),
      biasIh: Array.from({ length: G * spec.H }, u),
      biasHh: Array.from({ length: G * spec.H }, u),
    }
  }
  const layer = (l: number): RecurrentLayer => ({ ...cell(l, false), ...(D === 2 ? { reverse: cell(l, true) } : {}) })
  const rec = layer(0)
  if (L === 2) rec.next = layer(1)
  if (spec.readout || D === 2) rec.readout = resolveReadout(spec.readout ?? [{ out: -1 }], { L, D, T: spec.T, what: 'random', file: 'random' })
  let nIn = readoutOf(rec).length * spec.H
  const layers = spec.heads.map((hd, i) => {
    const s = 1 / Math.sqrt(nIn)
    const l = { name: `fc${i}`, weight: Array.from({ length: hd.n }, () => Array.from({ length: nIn }, () => (r() * 2 - 1) * s)), bias: Array.from({ length: hd.n }, () => (r() * 2 - 1) * s), activation: hd.act }
    nIn = hd.n
    return l
  })
  return { format: 'synthetic', inputSize: spec.T * spec.F, inputShape: [spec.T, spec.F], recurrent: rec, layers }
}

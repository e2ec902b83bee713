// Random GRU/LSTM sequence models (weights uniform in ±1/√H as PyTorch initialises them), for the tests.
import type { RecurrentLayer } from '../../src/ir/recurrentTypes.ts'
import type { Activation, ModelIR } from '../../src/ir/types.ts'
import { rng } from './rng.ts'

export type RecurrentSpec = { kind: 'gru' | 'lstm'; T: number; F: number; H: number; heads: { n: number; act: Activation }[]; wScale?: number; layers?: 1 | 2 }

export function randomRecurrent(spec: RecurrentSpec, seed: number): ModelIR {
  const r = rng(seed)
  const G = spec.kind === 'gru' ? 3 : 4
  const k = (spec.wScale ?? 1) / Math.sqrt(spec.H)
  const u = () => (r() * 2 - 1) * k
  const mat = (rows: number, cols: number) => Array.from({ length: rows }, () => Array.from({ length: cols }, u))
  const rec: RecurrentLayer = {
    kind: spec.kind,
    name: spec.kind,
    steps: spec.T,
    features: spec.F,
    hidden: spec.H,
    weightIh: mat(G * spec.H, spec.F),
    weightHh: mat(G * spec.H, spec.H),
    biasIh: Array.from({ length: G * spec.H }, u),
    biasHh: Array.from({ length: G * spec.H }, u),
  }
  if (spec.layers === 2) rec.next = { ...rec, name: `${spec.kind}.l1`, features: spec.H, weightIh: mat(G * spec.H, spec.H), weightHh: mat(G * spec.H, spec.H), biasIh: Array.from({ length: G * spec.H }, u), biasHh: Array.from({ length: G * spec.H }, u) }
  let nIn = spec.H
  const layers = spec.heads.map((hd, i) => {
    const s = 1 / Math.sqrt(nIn)
    const l = { name: `fc${i}`, weight: Array.from({ length: hd.n }, () => Array.from({ length: nIn }, () => (r() * 2 - 1) * s)), bias: Array.from({ length: hd.n }, () => (r() * 2 - 1) * s), activation: hd.act }
    nIn = hd.n
    return l
  })
  return { format: 'synthetic', inputSize: spec.T * spec.F, inputShape: [spec.T, spec.F], recurrent: rec, layers }
}

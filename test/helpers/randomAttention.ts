// Random self-attention models (weights uniform in ±wScale/√E, as PyTorch's xavier init gives about), for the tests.
import type { AttentionLayer, AttentionPool } from '../../src/ir/attentionTypes.ts'
import type { Activation, ModelIR } from '../../src/ir/types.ts'
import { rng } from './rng.ts'

export type AttentionSpec = { T: number; E: number; heads: number; pool: AttentionPool; head: { n: number; act: Activation }[]; wScale?: number; encoder?: { normFirst: boolean; act: Activation; dff: number } }

export function randomAttention(spec: AttentionSpec, seed: number): ModelIR {
  const r = rng(seed)
  const k = (spec.wScale ?? 1) / Math.sqrt(spec.E)
  const u = () => (r() * 2 - 1) * k
  const mat = (rows: number, cols: number) => Array.from({ length: rows }, () => Array.from({ length: cols }, u))
  const attention: AttentionLayer = {
    kind: 'mha',
    name: 'attn',
    tokens: spec.T,
    embed: spec.E,
    heads: spec.heads,
    pool: spec.pool,
    inProjWeight: mat(3 * spec.E, spec.E),
    inProjBias: Array.from({ length: 3 * spec.E }, u),
    outProjWeight: mat(spec.E, spec.E),
    outProjBias: Array.from({ length: spec.E }, u),
  }
  if (spec.encoder) {
    const { normFirst, act, dff } = spec.encoder
    const norm = () => ({ kind: 'layer_norm' as const, size: spec.E, groups: 1, eps: 1e-5, gamma: Array.from({ length: spec.E }, () => 1 + (r() - 0.5)), beta: Array.from({ length: spec.E }, () => (r() - 0.5) * 0.4) })
    attention.encoder = { name: 'enc', normFirst, act, ff1: { weight: mat(dff, spec.E), bias: Array.from({ length: dff }, u) }, ff2: { weight: mat(spec.E, dff), bias: Array.from({ length: spec.E }, u) }, norm1: norm(), norm2: norm() }
    if (spec.pool === 'mean') attention.pool = 'sum'
  }
  let nIn = spec.pool === 'flatten' ? spec.T * spec.E : spec.E
  const layers = spec.head.map((hd, i) => {
    const s = 1 / Math.sqrt(nIn)
    const l = { name: `fc${i}`, weight: Array.from({ length: hd.n }, () => Array.from({ length: nIn }, () => (r() * 2 - 1) * s)), bias: Array.from({ length: hd.n }, () => (r() * 2 - 1) * s), activation: hd.act }
    nIn = hd.n
    return l
  })
  return { format: 'synthetic', inputSize: spec.T * spec.E, inputShape: [spec.T, spec.E], attention, layers }
}

import type { AttentionLayer } from '../ir/attentionTypes.ts'
import { softmaxFixed } from '../ir/ops/softmax.ts'
import type { AttentionPlan } from './attentionPlanTypes.ts'

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

/** The float reference of self-attention then its pooling, PyTorch's equations (x: [T][E] flat, token-major). */
export function floatAttention(l: AttentionLayer, x: number[]): number[] {
  const { tokens: T, embed: E, heads } = l
  const d = E / heads
  const toks = range(T).map((t) => x.slice(t * E, (t + 1) * E))
  const proj = toks.map((xt) => l.inProjWeight.map((row, r) => row.reduce((s, w, i) => s + w * xt[i]!, l.inProjBias[r]!)))
  const o = toks.map(() => new Array<number>(E).fill(0))
  for (let h = 0; h < heads; h++) {
    const dims = range(d).map((k) => h * d + k)
    for (let i = 0; i < T; i++) {
      const sc = range(T).map((j) => dims.reduce((s, c) => s + proj[i]![c]! * proj[j]![E + c]!, 0) / Math.sqrt(d))
      const m = Math.max(...sc)
      const e = sc.map((v) => Math.exp(v - m))
      const sum = e.reduce((a, b) => a + b, 0)
      for (const c of dims) o[i]![c] = e.reduce((s, ej, j) => s + (ej / sum) * proj[j]![2 * E + c]!, 0)
    }
  }
  const y = o.map((oi) => l.outProjWeight.map((row, r) => row.reduce((s, w, c) => s + w * oi[c]!, l.outProjBias[r]!)))
  if (l.pool === 'last') return y[T - 1]!
  if (l.pool === 'flatten') return y.flat()
  return range(E).map((c) => y.reduce((s, yi) => s + yi[c]!, 0) / T)
}

/** One block's rows on the column values: (bq + Σ wq·col) >> s. */
const blockOut = (b: AttentionPlan['blocks'][number], col: bigint[]) => b.weights.map((row, r) => row.reduce((acc, w, i) => acc + w * col[i]!, b.biases[r]!) >> BigInt(b.wShift))

/** The fixed-point twin: exactly what the contract computes (attentionPlanTypes.ts), at 2^F. */
export function fixedAttention(p: AttentionPlan, x: bigint[], scale: bigint): bigint[] {
  const { tokens: T, embed: E, heads } = p
  const d = E / heads
  const Fb = BigInt(scale.toString(2).length - 1)
  const half = scale >> 1n
  const [qb, kvb, ob] = p.blocks
  const toks = range(T).map((t) => x.slice(t * E, (t + 1) * E))
  const queries = p.pool === 'last' ? [T - 1] : range(T)
  const q = new Map(queries.map((i) => [i, blockOut(qb, toks[i]!)]))
  const kv = toks.map((xt) => blockOut(kvb, xt))
  const o = new Map(queries.map((i) => [i, new Array<bigint>(E).fill(0n)]))
  const c = range(heads).map(() => new Array<bigint>(T).fill(0n))
  for (let h = 0; h < heads; h++) {
    const dims = range(d).map((k) => h * d + k)
    for (const i of queries) {
      const s = range(T).map((j) => (dims.reduce((acc, cc) => acc + q.get(i)![cc]! * kv[j]![cc]!, 0n) + half) >> Fb)
      const a = softmaxFixed(s, scale)
      if (p.pool === 'mean') a.forEach((aj, j) => (c[h]![j] += aj))
      else for (const cc of dims) o.get(i)![cc] = (a.reduce((acc, aj, j) => acc + aj * kv[j]![E + cc]!, 0n) + half) >> Fb
    }
  }
  if (p.pool === 'mean') {
    const sum = range(E).map((cc) => (range(T).reduce((acc, j) => acc + c[Math.floor(cc / d)]![j]! * kv[j]![E + cc]!, 0n) + half) >> Fb)
    return blockOut(ob, sum)
  }
  return queries.flatMap((i) => blockOut(ob, o.get(i)!))
}

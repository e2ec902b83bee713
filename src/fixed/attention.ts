import type { AttentionLayer } from '../ir/attentionTypes.ts'
import { opOf } from '../ir/ops/index.ts'
import { softmaxFixed } from '../ir/ops/softmax.ts'
import type { Activation } from '../ir/types.ts'
import type { AttentionPlan } from './attentionPlanTypes.ts'

const range = (n: number) => Array.from({ length: n }, (_, i) => i)
const add = <T extends number | bigint>(a: T[], b: T[]) => a.map((v, i) => ((v as number) + (b[i] as number)) as T)
const linear = (w: number[][], b: number[], x: number[]) => w.map((row, r) => row.reduce((s, v, i) => s + v * x[i]!, b[r]!))
const pooled = <T extends number | bigint>(y: T[][], pool: AttentionPlan['pool'], zero: T, T_: number): T[] =>
  pool === 'last' ? y[y.length - 1]! : pool === 'flatten' ? y.flat() : (() => {
    const s = y.reduce((acc, yi) => add(acc, yi), y[0]!.map(() => zero))
    return pool === 'mean' ? s.map((v) => ((v as number) / T_) as T) : s
  })()

/** The float reference of self-attention (or a TransformerEncoderLayer) then its pooling, PyTorch's equations (x: [T][E] flat, token-major). */
export function floatAttention(l: AttentionLayer, x: number[]): number[] {
  const { tokens: T, embed: E, heads } = l
  const d = E / heads
  const f = (a: Activation, v: number[]) => opOf(a).float(v, a)
  const enc = l.encoder
  const xs = range(T).map((t) => x.slice(t * E, (t + 1) * E))
  const toks = enc?.normFirst ? xs.map((v) => f(enc.norm1, v)) : xs
  const proj = toks.map((xt) => linear(l.inProjWeight, l.inProjBias, xt))
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
  let y = o.map((oi) => linear(l.outProjWeight, l.outProjBias, oi))
  if (enc) {
    const ff = (h: number[]) => linear(enc.ff2.weight, enc.ff2.bias, f(enc.act, linear(enc.ff1.weight, enc.ff1.bias, h)))
    y = y.map((a, i) => {
      const r = add(xs[i]!, a)
      if (enc.normFirst) return add(r, ff(f(enc.norm2, r)))
      const h = f(enc.norm1, r)
      return f(enc.norm2, add(h, ff(h)))
    })
  }
  return pooled(y, l.pool, 0, T)
}

/** One block's rows on the column values: (bq + Σ wq·col) >> s. */
const blockOut = (b: AttentionPlan['blocks'][number], col: bigint[]) => b.weights.map((row, r) => row.reduce((acc, w, i) => acc + w * col[i]!, b.biases[r]!) >> BigInt(b.wShift))

/** The fixed-point twin: exactly what the contract computes (attentionPlanTypes.ts), at 2^F. */
export function fixedAttention(p: AttentionPlan, x: bigint[], scale: bigint): bigint[] {
  const { tokens: T, embed: E, heads } = p
  const d = E / heads
  const Fb = BigInt(scale.toString(2).length - 1)
  const half = scale >> 1n
  const ctx = { scale, slopeBits: Number(Fb) }
  const f = (a: Activation, v: bigint[]) => opOf(a).fixed(v, a, 0n, ctx)
  const [qb, kvb, ob] = p.blocks
  const enc = p.encoder
  const xs = range(T).map((t) => x.slice(t * E, (t + 1) * E))
  const toks = enc?.normFirst ? xs.map((v) => f(enc.norm1, v)) : xs
  // every token queries, except where only the last token's output goes on
  const queries = p.pool === 'last' ? [T - 1] : range(T)
  const q = new Map(queries.map((i) => [i, blockOut(qb!, toks[i]!)]))
  const kv = toks.map((xt) => blockOut(kvb!, xt))
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
    return blockOut(ob!, sum)
  }
  let y = queries.map((i) => blockOut(ob!, o.get(i)!))
  if (enc) {
    const [f1, f2] = [p.blocks[3]!, p.blocks[4]!]
    const ff = (h: bigint[]) => blockOut(f2, f(enc.act, blockOut(f1, h)))
    y = y.map((a, k) => {
      const r = add(xs[queries[k]!]!, a)
      if (enc.normFirst) return add(r, ff(f(enc.norm2, r)))
      const h = f(enc.norm1, r)
      return f(enc.norm2, add(h, ff(h)))
    })
  }
  return pooled(y, p.pool, 0n, T)
}

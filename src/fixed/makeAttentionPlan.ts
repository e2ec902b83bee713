import { NumericsError } from '../errors/base.ts'
import type { AttentionLayer } from '../ir/attentionTypes.ts'
import { attentionPinOf, type AttentionBlock, type AttentionPlan } from './attentionPlanTypes.ts'
import { quantize } from './quantize.ts'
import { encoderPlan, lnBound } from './makeEncoderPlan.ts'

const abs = (v: bigint) => (v < 0n ? -v : v)
const bitLength = (v: bigint) => abs(v).toString(2).length
const maxOf = (v: bigint[]) => v.reduce((a, b) => (a > b ? a : b), 0n)


export type AttentionPlanArgs = { wMaxQ: bigint; F: number; scale: bigint; inputAbsMax: bigint; weightBytes: number }

/**
 * The fixed-point plan of self-attention: per block (q with 1/sqrt(d) folded in, kv, out) the largest weight
 * scale 2^s that fits the storage width, biases at 2^(s+F) with the half-ulp, and interval analysis from
 * |x| ≤ inputAbsMax: |q|, |k|, |v| per row from the weights; |s_ij| from |q|·|k|; the softmax weights lie in
 * [0, S] and sum to at most S + T/2 (each rounds to nearest), so |o[d]| ≤ (S + T)·|v[d]| / S + 1, and the
 * mean pool's Σ_i o_i at most T times that; out_proj's rows from there. Each accumulator bound sets its block's
 * lane width; every intermediate product is checked against 2^255.
 */
export function makeAttentionPlan(layer: AttentionLayer, a: AttentionPlanArgs, pin?: string): AttentionPlan {
  const where = `MultiheadAttention '${layer.name}'`
  if (a.scale !== 1n << BigInt(a.F)) throw new NumericsError(`${where} needs a binary activation scale (precision.fraction), not a decimal one`, { hint: 'remove precision.decimals' })
  const pinAll = pin === undefined ? undefined : (JSON.parse(pin) as unknown[])
  const pinned = pinAll && ([...pinAll.slice(0, 3), ...pinAll.filter((v) => Array.isArray(v))] as [string, string, number, ...[number, number, number][]])
  if (pinAll && (pinAll.length - pinned!.length === 1) !== !!layer.encoder) throw new NumericsError(`the new ${where} ${layer.encoder ? 'is' : 'is not'} a TransformerEncoderLayer; the deployed contract's is${layer.encoder ? ' not' : ''}`, { hint: 'deploy the new model with `ml2sc run`' })
  if (pinned && (pinned[0] !== 'mha' || pinned[1] !== layer.pool || pinned[2] !== layer.heads))
    throw new NumericsError(`the new ${where} pools or splits heads differently from the deployed contract`, { hint: 'deploy the new model with `ml2sc run`' })
  const { tokens: T, embed: E, heads } = layer
  const d = E / heads
  const S = a.scale
  const F = BigInt(a.F)
  const rt = Math.sqrt(d)
  const block = (name: AttentionBlock['name'], k: number, w: number[][], b: number[], xMax: bigint[]): [AttentionBlock, bigint[]] => {
    const wAbsMax = Math.max(...w.flat().map(Math.abs))
    let s = wAbsMax === 0 ? 1 : Math.floor(Math.log2(Number(a.wMaxQ) / wAbsMax))
    while (s > 0 && abs(quantize(wAbsMax, s)) > a.wMaxQ) s--
    s = Math.min(s, 64)
    const pb = pinned?.[3 + k] as [number, number, number] | undefined
    if (pb) s = pb[0]
    if (s < 1 || abs(quantize(wAbsMax, s)) > a.wMaxQ)
      throw new NumericsError(`weights of ${where} (${name}) reach ${wAbsMax}, too large for int${8 * a.weightBytes}${pb ? " at the deployed contract's scale" : ''}`, {
        hint: pb ? 'deploy the new model with `ml2sc run`' : 'choose a wider precision.weights',
      })
    const weights = w.map((row) => row.map((v) => quantize(v, s)))
    const biases = b.map((v) => quantize(v, s + a.F) + (1n << BigInt(s - 1)))
    const accs = weights.map((row, r) => row.reduce((t, wq, i) => t + abs(wq) * xMax[i]!, abs(biases[r]!)))
    const accMax = maxOf(accs)
    const need = 8 * Math.ceil((bitLength(accMax) + 1) / 8)
    if (pb && need > pb[1]) throw new NumericsError(`the new weights of ${where} need ${need}-bit lanes; the deployed contract has ${pb[1]}`, { hint: 'deploy the new model with `ml2sc run`' })
    const laneBits = pb ? pb[1] : need
    if (laneBits > 256) throw new NumericsError(`${where} (${name}) could overflow 256 bits`, { hint: 'use a narrower precision.inputs or precision.weights' })
    const lanes = pb ? pb[2] : Math.max(1, Math.min(Math.floor(256 / laneBits), w.length))
    return [{ name, weights, biases, wShift: s, laneBits, lanes, accMax }, accs.map((v) => (v >> BigInt(s)) + 1n)]
  }
  const ctx = { scale: S, slopeBits: a.F }
  const enc = layer.encoder
  // a pre-norm encoder attends over LN1(x): its bound (ir/ops/layerNorm.ts), checked for overflow first
  const norm1In = enc?.normFirst ? lnBound(enc.norm1, a.inputAbsMax, ctx, where) : undefined
  const xMax = new Array<bigint>(E).fill(norm1In ?? a.inputAbsMax)
  const W = layer.inProjWeight
  const B = layer.inProjBias
  const [q, qMax] = block('q', 0, W.slice(0, E).map((row) => row.map((v) => v / rt)), B.slice(0, E).map((v) => v / rt), xMax)
  const [kv, kvMax] = block('kv', 1, W.slice(E), B.slice(E), xMax)
  const dims = (h: number) => Array.from({ length: d }, (_, k) => h * d + k)
  const scoreAcc = maxOf(Array.from({ length: heads }, (_, h) => dims(h).reduce((t, c) => t + qMax[c]! * kvMax[c]!, S >> 1n)))
  const scoreMax = (scoreAcc >> F) + 1n
  // softmax weights: each in [0, S], their sum ≤ S + T/2; mean pooling sums T rows of them
  const weightSum = (layer.pool === 'mean' ? BigInt(T) : 1n) * (S + BigInt(T))
  const attendAccs = Array.from({ length: E }, (_, c) => weightSum * kvMax[E + c]! + (S >> 1n))
  const attendMax = maxOf(attendAccs)
  const oMax = attendAccs.map((v) => (v >> F) + 1n)
  const wo = layer.pool === 'mean' ? layer.outProjWeight.map((row) => row.map((v) => v / T)) : layer.outProjWeight
  const [out, attnOut] = block('out', 2, wo, layer.outProjBias, oMax)
  const ffBlocks: AttentionBlock[] = []
  const outMax = enc ? encoderPlan(enc, a.inputAbsMax, attnOut, ctx, where, (name, k, w, b, m) => { const [bl, mx] = block(name, k, w, b, m); ffBlocks.push(bl); return mx }) : attnOut
  // the softmax's own products: (max − s)·log2(e) after the clamp, e·S at 2^64: far below 2^255
  for (const [what, v] of [['scores', scoreAcc], ['attention sums', attendMax]] as const)
    if (bitLength(v) > 250) throw new NumericsError(`${where}: its ${what} could overflow 256 bits`, { hint: 'use a narrower precision.inputs or precision.weights' })
  const pooledMax = layer.pool === 'sum' ? outMax.map((v) => v * BigInt(T)) : outMax
  const encoder = enc ? { normFirst: enc.normFirst, act: enc.act, norm1: enc.norm1, norm2: enc.norm2 } : undefined
  const plan: AttentionPlan = { kind: 'mha', name: layer.name, tokens: T, embed: E, heads, pool: layer.pool, blocks: [q, kv, out, ...ffBlocks], ...(encoder ? { encoder } : {}), qMax, kvMax, scoreMax, attendMax, outMax: pooledMax }
  if (pin !== undefined && attentionPinOf(plan) !== pin) throw new NumericsError(`the new weights of ${where} need other scales or lanes than the deployed contract has`, { hint: 'deploy the new model with `ml2sc run`' })
  return plan
}

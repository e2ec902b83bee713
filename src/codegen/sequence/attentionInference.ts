import { ConfigError } from '../../errors/base.ts'
import type { Plan } from '../../fixed/types.ts'
import { activationExpr, vectorActivationYul } from '../dense/activationYul.ts'
import type { InferenceParts } from '../conv/convInference.ts'
import { hex as h } from '../dense/laneKernel.ts'
import { recurrentBlobLayout, type BlockLayout } from './recurrentBlob.ts'
import { blockGroupsYul } from './blockGroupsYul.ts'
import { denseLayersYul } from './denseLayersYul.ts'
import { EXP_CLAMP_UNITS, expNegYul } from '../../ir/ops/exp.ts'

/**
 * softmaxFixed (ir/ops/softmax.ts) over the T words at S, written inline: the shared `softmax` helper's
 * steps (max, e^-(max − s_j) at 2^64 with the clamp at 50 units, one rounded DIV each) without a function
 * call per exp.
 */
function softmaxInline(S: number, T: number, scale: bigint, F: number): string {
  const end = h(S + 32 * T)
  const x = expNegYul(scale, false, 'x', 'e_')
  return `{ let m := mload(${h(S)})
                    for { let q := ${h(S + 32)} } lt(q, ${end}) { q := add(q, 32) } { let v := mload(q) if sgt(v, m) { m := v } }
                    let sum := 0
                    for { let q := ${h(S)} } lt(q, ${end}) { q := add(q, 32) } {
                        let x := sub(m, mload(q)) if gt(x, ${h(EXP_CLAMP_UNITS * scale)}) { x := ${h(EXP_CLAMP_UNITS * scale)} }
                        ${x.lets}
                        let e := ${x.e}
                        mstore(q, e) sum := add(sum, e)
                    }
                    let half := shr(1, sum)
                    for { let q := ${h(S)} } lt(q, ${end}) { q := add(q, 32) } { mstore(q, div(add(shl(${F}, mload(q)), half), sum)) } }`
}

const words = (bytes: number) => Math.ceil(bytes / 32) * 32

/**
 * The kernel of an attention model (self-attention, a pooling, then dense layers), with SIMD lanes across
 * the rows of each projection block (q, kv, out) as in the recurrent kernel: the lane words are read where
 * the blob lies in memory (recurrentBlob.ts: the same canonical encoding). Per row: the window is decoded;
 * a loop over the tokens computes k, v (and q) of each token; per head, a loop over the queries computes
 * the scores against every key (the head's dims unrolled), the softmax in place (the `softmax` helper of
 * ir/ops/softmax.ts, the twin's softmaxFixed), then either the column sums of the weights (mean pooling)
 * or the weighted sum of the values; then out_proj (once for mean and last, per token for flatten) and the
 * dense layers. attentionPlanTypes.ts has the exact integer formulas, fixed/attention.ts the twin.
 */
export function attentionInference(plan: Plan, opts: { layout: string }): InferenceParts {
  if (opts.layout === 'code')
    throw new ConfigError('weights.layout `code` is not available for attention models', { where: 'weights.layout', hint: 'use `datacontract` (the default) or `storage`' })
  const a = plan.attention!
  const { tokens: T, embed: E, heads } = a
  const d = E / heads
  const nq = a.pool === 'last' ? 1 : T
  const blob = 0xa0
  const layout = recurrentBlobLayout(plan)
  let at = blob + words(layout.length) + 32
  const alloc = (n: number) => ((at += 32 * n), at - 32 * n)
  const packed = layout.blocks.map((b) => b.groups.map((g) => blob + g.wordsAt))
  const enc = a.encoder
  const nOut = a.pool === 'mean' ? 1 : nq
  const X = alloc(T * E)
  // a pre-norm encoder attends over LN1(x), kept beside x (the residual adds x)
  const Z = enc?.normFirst ? alloc(T * E) : X
  const Q = alloc(nq * E)
  const KV = alloc(T * 2 * E)
  const S = alloc(T)
  const C = alloc(heads * T)
  const O = alloc(nOut * E)
  const Y = alloc(nOut * E)
  // an encoder: per token h (E), linear1's outputs (dff), its outputs (nq·E) and their sum over the tokens
  const dff = enc ? a.blocks[3]!.weights.length : 0
  const Hb = alloc(E)
  const F1 = alloc(dff)
  const Y2 = alloc(enc ? nq * E : 0)
  const Ys = alloc(E)
  const dense = plan.layers.map((l, i) => (i === plan.layers.length - 1 && alloc(2), alloc(l.nOut)))
  const end = at

  /** One block's groups (./blockGroupsYul.ts). */
  const blockYul = (b: BlockLayout, bi: number, col: (j: number) => string, store: (row: number, v: string) => string): string[] => blockGroupsYul(b, packed[bi]!, col, store)
  const at32 = (base: string, k: number) => (k ? `add(${base}, ${h(32 * k)})` : base)
  const half = h(plan.scale >> 1n)
  const Fs = plan.F
  const [qL, kvL, outL] = layout.blocks as [BlockLayout, BlockLayout, BlockLayout]
  const rows: string[] = [`// self-attention '${a.name}': ${T} tokens × ${E}, ${heads} head(s), ${a.pool} pooling`]
  // the window, token by token
  const inB = plan.inputBytes
  rows.push(`for { let i := 0 } lt(i, ${T * E}) { i := add(i, 1) } { mstore(add(${h(X)}, shl(5, i)), sar(${256 - 8 * inB}, calldataload(add(rp, mul(i, ${inB}))))) }`)
  // k and v of every token (and q where every token queries)
  if (enc?.normFirst)
    rows.push(`for { let zp := ${h(Z)} } lt(zp, ${h(Z + 32 * T * E)}) { zp := add(zp, ${h(32 * E)}) } {
                    ${Array.from({ length: E }, (_, c) => `mstore(${at32('zp', c)}, mload(${at32(`sub(zp, ${h(32 * T * E)})`, c)}))`).join(' ')}
                    ${vectorActivationYul(enc.norm1, 'zp', E, plan)}
                }`)
  const xCol = (j: number) => `mload(${at32('xp', j)})`
  const kvLoop = [...blockYul(kvL, 1, xCol, (r, v) => `mstore(${at32('kp', r)}, ${v})`), ...(nq === T ? blockYul(qL, 0, xCol, (r, v) => `mstore(${at32('qp', r)}, ${v})`) : [])]
  rows.push(`for { let xp := ${h(Z)} let kp := ${h(KV)} let qp := ${h(Q)} } lt(xp, ${h(Z + 32 * T * E)}) { xp := add(xp, ${h(32 * E)}) kp := add(kp, ${h(64 * E)}) qp := add(qp, ${h(32 * E)}) } {
                    ${kvLoop.join('\n                    ')}
                }`)
  if (nq === 1) rows.push(`{ let xp := ${h(Z + 32 * (T - 1) * E)}\n                    ${blockYul(qL, 0, xCol, (r, v) => `mstore(${h(Q + 32 * r)}, ${v})`).join('\n                    ')} }`)
  if (a.pool === 'mean') for (let k = 0; k < heads * T; k++) rows.push(`mstore(${h(C + 32 * k)}, 0)`)
  for (let hd = 0; hd < heads; hd++) {
    const dims = Array.from({ length: d }, (_, k) => hd * d + k)
    // scores of query qp against every key: s_j = (Σ_c q[c]·k_j[c] + S/2) >> F, then the softmax in place
    // the query's dims stay on the stack across its keys (up to 8: the legacy code generator's reach)
    const onStack = d <= 8
    const qOf = (c: number) => (onStack ? `q${c - hd * d}` : `mload(${at32('qp', c)})`)
    const score = `mstore(sp, sar(${Fs}, ${dims.reduceRight((rest, c) => `add(mul(${qOf(c)}, mload(${at32('kp', c)})), ${rest})`, half)}))`
    const body = [
      ...(onStack ? [dims.map((c) => `let q${c - hd * d} := mload(${at32('qp', c)})`).join(' ')] : []),
      `for { let sp := ${h(S)} let kp := ${h(KV)} } lt(sp, ${h(S + 32 * T)}) { sp := add(sp, 32) kp := add(kp, ${h(64 * E)}) } { ${score} }`,
      softmaxInline(S, T, plan.scale, Fs),
    ]
    if (a.pool === 'mean') body.push(...Array.from({ length: T }, (_, j) => `mstore(${h(C + 32 * (hd * T + j))}, add(mload(${h(C + 32 * (hd * T + j))}), mload(${h(S + 32 * j)})))`))
    else
      for (const c of dims)
        body.push(`mstore(${at32('op', c)}, sar(${Fs}, ${Array.from({ length: T }, (_, j) => j).reduceRight((rest, j) => `add(mul(mload(${h(S + 32 * j)}), mload(${h(KV + 32 * (2 * E * j + E + c))})), ${rest})`, half)}))`)
    rows.push(`for { let qp := ${h(Q)} let op := ${h(O)} } lt(qp, ${h(Q + 32 * nq * E)}) { qp := add(qp, ${h(32 * E)}) op := add(op, ${h(32 * E)}) } {
                    ${body.join('\n                    ')}
                }`)
    // mean pooling: Σ_i o_i[c] = (Σ_j c_j·v_j[c] + S/2) >> F
    if (a.pool === 'mean')
      for (const c of dims)
        rows.push(`mstore(${h(O + 32 * c)}, sar(${Fs}, ${Array.from({ length: T }, (_, j) => j).reduceRight((rest, j) => `add(mul(mload(${h(C + 32 * (hd * T + j))}), mload(${h(KV + 32 * (2 * E * j + E + c))})), ${rest})`, half)}))`)
  }
  // out_proj: once on the pooled values, or per token for a flatten
  const outBlock = blockYul(outL, 2, (j) => `mload(${at32('op', j)})`, (r, v) => `mstore(${at32('yp', r)}, ${v})`)
  rows.push(`for { let op := ${h(O)} let yp := ${h(Y)} } lt(op, ${h(O + 32 * nOut * E)}) { op := add(op, ${h(32 * E)}) yp := add(yp, ${h(32 * E)}) } {
                    ${outBlock.join('\n                    ')}
                }`)
  if (enc) {
    // per query token: the residuals, the norms (ir/ops/layerNorm.ts) and the feed-forward, into Y2
    const [f1L, f2L] = [layout.blocks[3]!, layout.blocks[4]!]
    const ff1 = (src: string) => blockYul(f1L, 3, (j) => `mload(${at32(src, j)})`, (r, v) => `mstore(${h(F1 + 32 * r)}, ${activationExpr(enc.act, v, 0n)})`)
    const copy = (to: string, from: (c: number) => string) => Array.from({ length: E }, (_, c) => `mstore(${at32(to, c)}, ${from(c)})`).join(' ')
    const body = enc.normFirst
      ? [copy('yp', (c) => `add(mload(${at32('xp', c)}), mload(${at32('ap', c)}))`), copy(h(Hb), (c) => `mload(${at32('yp', c)})`), vectorActivationYul(enc.norm2, h(Hb), E, plan)!, ...ff1(h(Hb)),
         ...blockYul(f2L, 4, (j) => `mload(${h(F1 + 32 * j)})`, (r, v) => `mstore(${at32('yp', r)}, add(mload(${at32('yp', r)}), ${v}))`)]
      : [copy(h(Hb), (c) => `add(mload(${at32('xp', c)}), mload(${at32('ap', c)}))`), vectorActivationYul(enc.norm1, h(Hb), E, plan)!, ...ff1(h(Hb)),
         ...blockYul(f2L, 4, (j) => `mload(${h(F1 + 32 * j)})`, (r, v) => `mstore(${at32('yp', r)}, add(mload(${h(Hb + 32 * r)}), ${v}))`), vectorActivationYul(enc.norm2, 'yp', E, plan)!]
    if (a.pool === 'sum') body.push(copy(h(Ys), (c) => `add(mload(${h(Ys + 32 * c)}), mload(${at32('yp', c)}))`))
    if (a.pool === 'sum') rows.push(copy(h(Ys), () => '0'))
    rows.push(`for { let xp := ${h(X + 32 * (T - nq) * E)} let ap := ${h(Y)} let yp := ${h(Y2)} } lt(ap, ${h(Y + 32 * nq * E)}) { xp := add(xp, ${h(32 * E)}) ap := add(ap, ${h(32 * E)}) yp := add(yp, ${h(32 * E)}) } {
                    ${body.join('\n                    ')}
                }`)
  }
  const headIn = !enc ? Y : a.pool === 'sum' ? Ys : Y2
  const first = a.blocks.length
  // value 0: the pooled attention output; value k: dense layer k−1's outputs (a multi-output model's heads read them by concatReader)
  const valueAt = (v: number, j: number) => (v === 0 ? headIn : dense[v - 1]!) + 32 * j
  rows.push(...denseLayersYul(plan, dense, valueAt, plan.layers[0]!.nIn, (li, col, store) => blockGroupsYul(layout.blocks[first + li]!, packed[first + li]!, col, store)))
  return { blob, blobLength: layout.length, outputsAt: dense[dense.length - 1]!, end, perTx: '', perRow: rows.join('\n                ') }
}

import type { AttentionPool, AttentionStep } from '../../ir/attentionTypes.ts'
import type { Activation, TensorMap } from '../../ir/types.ts'
import { linearForward, type AttnGraph } from './attentionLinear.ts'
import { matchLayerNorm, type LayerNormPattern } from './normOps.ts'
import { matchPattern } from './patterns.ts'
import { attrs, num } from './proto.ts'

type EncoderSpec = NonNullable<Extract<AttentionStep, { op: 'mha' }>['encoder']>
type TailArgs = { x: string; input: string; attnOut: string; batchFirst: boolean; T: number | undefined; name: string; tensors: TensorMap }

/**
 * What follows torch's MultiheadAttention pattern in an ONNX graph (attentionOps.ts), up to the pooled value:
 * - an nn.TransformerEncoderLayer around it: norm_first=False, Add(x, SA) → LayerNorm → FF → Add → LayerNorm;
 *   norm_first=True, LayerNorm before the attention, Add(x, SA) → (LayerNorm → FF) → Add; FF = MatMul + Add →
 *   Relu or GELU (Erf pattern) → MatMul + Add; its tensors join `tensors` as `<enc>.linear1.weight`, `<enc>.norm1.weight`, …;
 * - then the pooling over the tokens: ReduceMean over the token axis (mean), Gather of the last token (last), or
 *   Flatten / Reshape [B, −1] of a batch_first sequence (flatten).
 */
export function attentionTail(g: AttnGraph, a: TailArgs): { output: string; pool: AttentionPool; encoder?: EncoderSpec } {
  const { refuse } = g
  const idx = (n: { output?: string[] }) => g.nodes.indexOf(n as never)
  const isInit = (k: string) => !g.live.has(k) && g.constOf(k) !== undefined
  const ln = (x: string): LayerNormPattern | undefined => {
    const rm = g.readers(x).find((n) => n.op_type === 'ReduceMean')
    return rm ? matchLayerNorm(g.nodes, idx(rm), x, g.scalar, isInit) : undefined
  }
  const encName = a.name.endsWith('.self_attn') ? a.name.slice(0, -'.self_attn'.length) : `${a.name}_encoder`
  let norm1: LayerNormPattern | undefined
  if (a.x !== a.input) {
    norm1 = ln(a.input)
    if (!norm1 || norm1.out !== a.x) refuse(g.producer(a.x), 'whose input is not the graph input (or a TransformerEncoderLayer\'s LayerNorm of it)')
  }
  const readers = g.readers(a.attnOut)
  const residual = readers.length === 1 && readers[0]!.op_type === 'Add' && readers[0]!.input!.includes(a.input) ? readers[0]! : undefined
  if (!residual) {
    if (norm1) refuse(residual, 'after a LayerNorm with no residual Add (a TransformerEncoderLayer with norm_first=True, in part)')
    return { output: pooled(g, a.attnOut, a), pool: poolOf(g, a.attnOut, a) }
  }
  const what = 'in a TransformerEncoderLayer (ONNX pattern)'
  const r1 = residual.output![0]!
  const ff = (h: string) => {
    const l1 = linearForward(g, h, `${what} linear1`)
    const r = g.readers(l1.y)
    let act: Activation = { kind: 'relu' }
    let y = r[0]?.output?.[0] ?? ''
    if (r.length !== 1 || r[0]!.op_type !== 'Relu') {
      // GELU's Erf pattern reads its input twice (x/√2 and x·…)
      const first = r.reduce((m, n) => Math.min(m, idx(n)), g.nodes.length)
      const p = matchPattern(g.nodes, first, l1.y, g.scalar)
      if (!p || p.activation.kind !== 'gelu' || p.activation.approximate !== 'none' || r.some((n) => !p.nodes.includes(n))) refuse(r[0], `${what}: the activation of its feed-forward block is not relu or gelu`)
      act = p!.activation
      y = p!.out
    }
    const l2 = linearForward(g, y, `${what} linear2`)
    return { l1, l2, act }
  }
  let block: ReturnType<typeof ff>
  let norm2: LayerNormPattern | undefined
  let out: string
  const addOf = (h: string, f: string) => g.readers(f).find((n) => n.op_type === 'Add' && n.input!.includes(h) && n.input!.includes(f))
  if (!norm1) {
    // post-norm: h = LN1(x + SA(x)); y = LN2(h + FF(h))
    norm1 = ln(r1)
    if (!norm1) refuse(residual, `${what}: no LayerNorm after the residual Add`)
    block = ff(norm1!.out)
    const add = addOf(norm1!.out, block.l2.y)
    norm2 = add && ln(add.output![0]!)
    if (!norm2) refuse(add, `${what}: the feed-forward block's residual Add and LayerNorm are not there`)
    out = norm2!.out
  } else {
    // pre-norm: h = x + SA(LN1(x)); y = h + FF(LN2(h))
    norm2 = ln(r1)
    if (!norm2) refuse(residual, `${what} (norm_first): no LayerNorm before the feed-forward block`)
    block = ff(norm2!.out)
    const add = addOf(r1, block.l2.y)
    if (!add) refuse(g.readers(block.l2.y)[0], `${what} (norm_first): the feed-forward block's residual Add is not there`)
    out = add!.output![0]!
  }
  if (Math.abs(norm1!.eps - norm2!.eps) > 1e-12) refuse(undefined, `${what}: its two LayerNorms have different eps`)
  const t = a.tensors
  const put = (k: string, v: ReturnType<AttnGraph['constOf']>) => v && t.set(`${encName}.${k}`, v)
  put('linear1.weight', block!.l1.weight)
  put('linear1.bias', block!.l1.bias)
  put('linear2.weight', block!.l2.weight)
  put('linear2.bias', block!.l2.bias)
  for (const [k, n] of [['norm1', norm1!], ['norm2', norm2!]] as const) {
    if (n.weight) put(`${k}.weight`, g.constOf(n.weight))
    if (n.bias) put(`${k}.bias`, g.constOf(n.bias))
  }
  return { output: pooled(g, out, a), pool: poolOf(g, out, a), encoder: { name: encName, normFirst: a.x !== a.input, act: block!.act, eps: norm1!.eps } }
}

/** The pooling node's output. */
const pooled = (g: AttnGraph, y: string, a: TailArgs) => {
  poolOf(g, y, a)
  return g.readers(y)[0]!.output![0]!
}

function poolOf(g: AttnGraph, y: string, a: TailArgs): AttentionPool {
  const r = g.readers(y)
  const n = r[0]
  const tAxis = a.batchFirst ? 1 : 0
  const axisIs = (k: number) => k === tAxis || k === tAxis - 3
  const hint = a.batchFirst ? 'e.g. self.fc(a.mean(dim=1)), self.fc(a[:, -1, :]) or self.fc(a.flatten(1))' : 'e.g. self.fc(a.mean(dim=0)) or self.fc(a[-1])'
  if (r.length !== 1 || !n) return g.refuse(r[1] ?? g.producer(y), 'whose output sequence goes to several places', hint)
  const at = attrs(n)
  if (n.op_type === 'ReduceMean') {
    const axes = (at.get('axes')?.ints ?? []).map(num).concat(Array.from(g.constOf(n.input?.[1] ?? '')?.data ?? []))
    if (axes.length === 1 && axisIs(axes[0]!) && num(at.get('keepdims')?.i ?? 1) === 0) return 'mean'
  }
  if (n.op_type === 'Gather' && axisIs(num(at.get('axis')?.i))) {
    const i = g.constOf(n.input?.[1] ?? '')?.data
    if (i?.length === 1 && (i[0] === -1 || (a.T !== undefined && i[0] === a.T - 1))) return 'last'
  }
  if (a.batchFirst && n.op_type === 'Flatten' && num(at.get('axis')?.i ?? 1) === 1) return 'flatten'
  if (a.batchFirst && n.op_type === 'Reshape') {
    const s = Array.from(g.constOf(n.input?.[1] ?? '')?.data ?? [])
    if (s.length === 2 && (s.includes(-1) || s[0] === 1)) return 'flatten'
  }
  return g.refuse(n, `whose output sequence is not pooled before the Linear head (mean over the tokens, the last token or a flatten): ${n.op_type} over it`, hint)
}

import { ModelError } from '../../errors/base.ts'
import type { AttentionStep } from '../../ir/attentionTypes.ts'
import type { ArchStep, Tensor, TensorMap } from '../../ir/types.ts'
import { linearForward, linearOf, type AttnGraph } from './attentionLinear.ts'
import { attentionTail } from './attentionTail.ts'
import { constEvaluator } from './constEval.ts'
import { attrs, num, type ONode, type OTensor } from './proto.ts'
import { onnxTensorData } from './tensorData.ts'

export type OnnxAttention = { steps: ArchStep[]; tensors: TensorMap; consumed: Set<ONode>; output: string; batchFirst: boolean }

const HINT = 'ml2sc reads the ONNX export of self-attention (query = key = value, no mask, kdim = vdim = embed_dim); else give the state_dict with model.source'

/**
 * torch.onnx.export's pattern for nn.MultiheadAttention used as self-attention (and, around it, an
 * nn.TransformerEncoderLayer: attentionTail.ts), at the head of the graph, batch_first either way:
 *   [Transpose 1,0,2] → in_proj (MatMul + Add, or Gemm) → three Slices (q, k, v) → Reshape [T, B·H, d] →
 *   Transpose (q, v: 1,0,2; k: 1,2,0) → q·kᵀ scaled by 1/√d (a Div or Mul on q, k or the scores, maybe of a Sqrt)
 *   → Softmax → ·v → Transpose 1,0,2 → Reshape → out_proj (Gemm, or MatMul + Add) → Reshape [→ Transpose 1,0,2].
 * Gives the attention step with its tensors in PyTorch's layout (`<name>.in_proj_weight`, …), the pooling
 * over the tokens, and the tensor where a plain [B, E] (or [B, T·E]) value goes on. Undefined when the graph
 * has no Softmax over a product of two computed tensors; anything else around such a Softmax (a mask,
 * cross-attention, separate q/k/v projections) is refused in one line naming the layer.
 */
export function onnxAttention(nodes: ONode[], input: string, dims: number[] | undefined, inits: Map<string, OTensor>, file: string): OnnxAttention | undefined {
  const prod = new Map<string, ONode>()
  const readersOf = new Map<string, ONode[]>()
  for (const n of nodes) {
    for (const o of n.output ?? []) prod.set(o, n)
    for (const i of n.input ?? []) if (n.op_type !== 'Shape') readersOf.set(i, [...(readersOf.get(i) ?? []), n])
  }
  const live = new Set([input])
  for (const n of nodes) if (n.op_type !== 'Shape' && (n.input ?? []).some((i) => live.has(i))) for (const o of n.output ?? []) live.add(o)
  const isMatMul2 = (n: ONode | undefined) => n?.op_type === 'MatMul' && (n.input ?? []).every((i) => live.has(i))
  // a Softmax over scores: back through a scale or a mask (Mul, Div, Add, Sub, Where) to a MatMul of two computed
  // tensors; a Softmax after a Linear head is the walker's (an activation)
  const overScores = (n: ONode) => {
    let p = prod.get(n.input?.[0] ?? '')
    for (let k = 0; k < 4 && p; k++) {
      if (isMatMul2(p)) return true
      if (!/^(Mul|Div|Add|Sub|Where)$/.test(p.op_type ?? '')) return false
      p = prod.get((p.input ?? []).find((i) => live.has(i) && prod.get(i)?.op_type !== 'Cast') ?? '')
    }
    return false
  }
  const softmaxes = nodes.filter((n) => n.op_type === 'Softmax' && live.has(n.input?.[0] ?? '') && overScores(n))
  if (!softmaxes.length) return undefined
  const S = softmaxes[0]!
  const layer = (n: ONode | undefined) => (n?.name ?? '').split('/').filter(Boolean).slice(0, -1).join('.')
  const what = () => `MultiheadAttention (ONNX pattern)${layer(S) ? ` '${layer(S)}'` : ''}`
  const refuse = (n: ONode | undefined, why: string, hint = HINT): never => {
    throw new ModelError(`${what()} ${why}${n ? ` (node '${n.name || n.output?.[0]}')` : ''}: not supported on chain`, { where: file, hint })
  }
  if (softmaxes.length > 1) refuse(softmaxes[1], 'followed by a second attention layer', 'one attention layer, a pooling, then Linear heads')
  const constOf = (name: string): Tensor | undefined => {
    const t = inits.get(name) ?? (prod.get(name)?.op_type === 'Constant' ? attrs(prod.get(name)!).get('value')?.t : undefined)
    return t ? onnxTensorData(t, file) : undefined
  }
  const shapes = new Map<string, number[]>()
  const ev = constEvaluator(nodes, inits, (k) => shapes.get(k), file)
  const scalar = (name: string) => {
    const v = live.has(name) ? undefined : ev(name)
    return v?.v.length === 1 ? v.v[0] : undefined
  }
  const perm = (n: ONode) => (attrs(n).get('perm')?.ints ?? []).map(num).join()
  const g: AttnGraph = { nodes, producer: (k) => prod.get(k), readers: (k) => readersOf.get(k) ?? [], constOf, scalar, live, refuse, perm }

  // the scores: MatMul(q, kᵀ), maybe scaled; an Add (or Where) before the Softmax is a mask
  const ax = num(attrs(S).get('axis')?.i ?? -1)
  if (ax !== -1 && ax !== 2) refuse(S, `with a Softmax over axis ${ax}`)
  let scale = 1
  const unscale = (name: string): string => {
    for (;;) {
      const p = prod.get(name)
      const [a, b] = p?.input ?? []
      if (!p || !/^(Mul|Div)$/.test(p.op_type ?? '') || !a || !b) return name
      const [x, c] = live.has(a) ? [a, scalar(b)] : [b, scalar(a)]
      if (c === undefined || !live.has(x) || (p.op_type === 'Div' && x !== a)) return name
      scale *= p.op_type === 'Mul' ? c : 1 / c
      name = x
    }
  }
  const scoresOut = unscale(S.input![0]!)
  const M1 = prod.get(scoresOut)
  if (M1 && /^(Add|Where|Sub|Mul)$/.test(M1.op_type ?? '')) refuse(M1, 'with a mask (attn_mask, key_padding_mask or a causal mask added to the scores)', 'self-attention without a mask runs on chain; give model.source for the rest to be named')
  if (!isMatMul2(M1)) refuse(M1, 'with scores not computed as one MatMul of q and kᵀ')
  const M2 = (readersOf.get(S.output![0]!) ?? [])[0]
  if (!isMatMul2(M2) || M2!.input![0] !== S.output![0] || readersOf.get(S.output![0]!)!.length !== 1) refuse(M2, 'whose attention weights go anywhere but the product with v (need_weights outputs are not run)')

  // back from q, k and v to one packed projection: Reshape [T, B·H, d] and Transpose(s), a Slice (chunk) of it
  type Chain = { src: string; slice: ONode; at: string; perm: number[]; hd?: number }
  const chain = (name: string, role: string): Chain => {
    let p = [0, 1, 2]
    let hd: number | undefined
    for (;;) {
      name = unscale(name)
      const n = prod.get(name)
      if (n?.op_type === 'Transpose') {
        const q = perm(n).split(',').map(Number)
        p = p.map((k) => q[k]!)
        name = n.input![0]!
      } else if (n?.op_type === 'Reshape') {
        const s = ev(n.input![1]!)?.v
        if (s?.length === 3 && s[2]! > 0) hd = s[2]
        name = n.input![0]!
      } else if (n?.op_type === 'Slice') {
        const axes = n.input![3] ? ev(n.input![3]!)?.v : [-1]
        if (axes?.length !== 1 || (axes[0] !== -1 && axes[0] !== 2)) refuse(n, `whose ${role} is not a slice of the features`)
        return { src: n.input![0]!, slice: n, at: name, perm: p, ...(hd ? { hd } : {}) }
      } else if (n?.op_type === 'Split' && (n.output ?? []).length === 3) {
        return { src: n.input![0]!, slice: n, at: name, perm: p, ...(hd ? { hd } : {}) }
      } else return refuse(n, `whose ${role} is not a slice of one packed q/k/v projection (cross-attention or kdim/vdim ≠ embed_dim)`)
    }
  }
  const [q, k, v] = [chain(M1!.input![0]!, 'query'), chain(M1!.input![1]!, 'key'), chain(M2!.input![1]!, 'value')]
  if (q.src !== k.src || k.src !== v.src) refuse(M1, 'with query, key and value from different projections (cross-attention or kdim/vdim ≠ embed_dim)')
  if (q.perm.join() !== '1,0,2' || v.perm.join() !== '1,0,2' || k.perm.join() !== '1,2,0') refuse(M1, `with q, k, v laid out as ${q.perm}/${k.perm}/${v.perm}, not the heads torch splits`)

  // the packed projection x·Wᵀ + b of the input (batch_first: its Transpose 1,0,2)
  const proj = linearOf(g, q.src, 'in_proj')
  const E = proj.weight.shape[1]!
  if (proj.weight.shape[0] !== 3 * E) refuse(prod.get(q.src), `with an in_proj of shape [${proj.weight.shape}], not [3E, E]`)
  let batchFirst = false
  let x = proj.x
  const t = prod.get(x)
  if (x !== input && t?.op_type === 'Transpose' && perm(t) === '1,0,2') {
    batchFirst = true
    x = t.input![0]!
  }
  const [T, B] = batchFirst ? [dims?.[1], dims?.[0]] : [dims?.[0], dims?.[1]]
  // the chunk's bounds are shape arithmetic on the projection's [T, B, 3E]
  shapes.set(q.src, [T || 1, B || 1, 3 * E])
  const ev2 = constEvaluator(nodes, inits, (k) => shapes.get(k), file)
  const starts = [q, k, v].map((c) => {
    const split = c.slice.op_type === 'Split'
    const sizes = split ? (c.slice.input?.[1] ? ev2(c.slice.input[1])?.v : attrs(c.slice).get('split')?.ints?.map(num)) ?? [E, E, E] : undefined
    if (sizes && sizes.join() !== `${E},${E},${E}`) return undefined
    return split ? (c.slice.output ?? []).indexOf(c.at) * E : ev2(c.slice.input![1]!)?.v[0]
  })
  if (starts.join() !== `0,${E},${2 * E}`) refuse(M1, `with q, k, v taken from in_proj columns ${starts.map((s) => s ?? '?')}, not 0, E, 2E`)
  const hd = q.hd ?? k.hd ?? v.hd ?? Math.round(1 / (scale * scale))
  const heads = E / hd
  if (!Number.isInteger(heads)) refuse(M1, `with head size ${hd}, which does not divide embed_dim ${E}`)
  if (Math.abs(scale * Math.sqrt(hd) - 1) > 1e-5) refuse(M1, `with the scores scaled by ${scale}, not 1/√${hd}`)
  const name = proj.name ?? (layer(S) || 'attn')

  // forward from ·v: Transpose 1,0,2 → Reshape → out_proj → Reshape [→ Transpose 1,0,2 (batch_first)]
  let cur = M2!.output![0]!
  const only = (name: string) => {
    const r = readersOf.get(name) ?? []
    if (r.length !== 1) refuse(r[1] ?? prod.get(name), 'whose output goes on in a way ml2sc does not read')
    return r[0]!
  }
  const tr = only(cur)
  if (tr.op_type !== 'Transpose' || perm(tr) !== '1,0,2') refuse(tr, 'whose heads are not merged back as torch does')
  const rs = only(tr.output![0]!)
  if (rs.op_type !== 'Reshape') refuse(rs, 'whose heads are not merged back as torch does')
  const out = linearForward(g, rs.output![0]!, 'out_proj')
  if (out.weight.shape.join() !== `${E},${E}`) refuse(out.nodes[0], `with an out_proj of shape [${out.weight.shape}], not [E, E]`)
  cur = out.y
  const rs2 = only(cur)
  if (rs2.op_type === 'Reshape') cur = rs2.output![0]!
  if (batchFirst) {
    const tb = only(cur)
    if (tb.op_type !== 'Transpose' || perm(tb) !== '1,0,2') refuse(tb, 'whose output is not transposed back to batch_first')
    cur = tb.output![0]!
  }
  const tensors: TensorMap = new Map([
    [`${name}.in_proj_weight`, proj.weight],
    [`${name}.out_proj.weight`, out.weight],
  ])
  if (proj.bias) tensors.set(`${name}.in_proj_bias`, proj.bias)
  if (out.bias) tensors.set(`${name}.out_proj.bias`, out.bias)
  const tail = attentionTail(g, { x, input, attnOut: cur, batchFirst, T, name, tensors })
  const mha: AttentionStep = { op: 'mha', name, heads, embed: E, batchFirst, ...(tail.encoder ? { encoder: tail.encoder } : {}) }
  // every node the pooled value depends on is the attention's (shape arithmetic included)
  const consumed = new Set<ONode>()
  const stack = [tail.output]
  while (stack.length) {
    const n = prod.get(stack.pop()!)
    if (!n || consumed.has(n)) continue
    consumed.add(n)
    stack.push(...(n.input ?? []).filter(Boolean))
  }
  return { steps: [mha, { op: 'seqpool', how: tail.pool }], tensors, consumed, output: tail.output, batchFirst }
}

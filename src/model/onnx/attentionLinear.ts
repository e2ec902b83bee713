import type { Tensor } from '../../ir/types.ts'
import { attrs, num, type ONode } from './proto.ts'

/** What the graph around one attention block offers the matchers (here and attentionTail.ts). */
export type AttnGraph = {
  nodes: ONode[]
  producer: (name: string) => ONode | undefined
  /** The nodes that read a tensor (Shape nodes, which only feed shape arithmetic, left out). */
  readers: (name: string) => ONode[]
  /** A constant tensor (an initializer or a Constant node's value). */
  constOf: (name: string) => Tensor | undefined
  /** A scalar computed from constants and shapes (constEval.ts). */
  scalar: (name: string) => number | undefined
  live: Set<string>
  refuse: (n: ONode | undefined, why: string, hint?: string) => never
  perm: (n: ONode) => string
}

/** A Linear on a computed tensor y = x·Wᵀ + b read backwards from y: Add(MatMul(x, Wᵀ), b), MatMul alone, or Gemm. */
export function linearOf(g: AttnGraph, y: string, role: string): { x: string; weight: Tensor; bias?: Tensor; name?: string; nodes: ONode[] } {
  const n = g.producer(y)
  if (n?.op_type === 'Gemm') return gemm(g, n, role)
  let bias: Tensor | undefined
  let biasName: string | undefined
  let mm = n
  const nodes: ONode[] = []
  if (n?.op_type === 'Add') {
    const [a, b] = n.input!
    const [m, c] = g.live.has(a!) ? [a!, b!] : [b!, a!]
    bias = g.constOf(c)
    biasName = c
    mm = g.producer(m)
    nodes.push(n)
    if (!bias || bias.shape.length !== 1) g.refuse(n, `whose ${role} bias is not a constant vector`)
  }
  const w = mm?.op_type === 'MatMul' ? g.constOf(mm.input![1]!) : undefined
  if (!mm || !w || w.shape.length !== 2 || !g.live.has(mm.input![0]!)) return g.refuse(mm, `whose ${role} is not a Linear (MatMul + Add or Gemm) of a constant weight`)
  const [i, o] = w.shape as [number, number]
  if (bias && bias.shape[0] !== o) g.refuse(n, `whose ${role} bias has ${bias.shape[0]} values for ${o} outputs`)
  const name = biasName?.match(new RegExp(`^(.+)\\.${role === 'in_proj' ? 'in_proj_bias' : `${role}\\.bias`}$`))?.[1]
  return { x: mm.input![0]!, weight: transpose(w, i, o), ...(bias ? { bias } : {}), ...(name ? { name } : {}), nodes: [mm, ...nodes] }
}

/** The same Linear read forwards from its input x: the one node reading x (MatMul [+ Add] or Gemm) and its output. */
export function linearForward(g: AttnGraph, x: string, role: string): { y: string; weight: Tensor; bias?: Tensor; nodes: ONode[] } {
  const r = g.readers(x).filter((n) => n.op_type === 'MatMul' || n.op_type === 'Gemm')
  if (r.length !== 1) g.refuse(g.readers(x)[0], `whose ${role} is not a Linear (MatMul + Add or Gemm)`)
  let y = r[0]!.output![0]!
  if (r[0]!.op_type === 'MatMul') {
    const add = g.readers(y)
    if (add.length === 1 && add[0]!.op_type === 'Add' && add[0]!.input!.some((i) => !g.live.has(i))) y = add[0]!.output![0]!
  }
  const l = linearOf(g, y, role)
  if (l.x !== x) g.refuse(r[0], `whose ${role} does not read the value before it`)
  return { y, weight: l.weight, ...(l.bias ? { bias: l.bias } : {}), nodes: l.nodes }
}

function gemm(g: AttnGraph, n: ONode, role: string) {
  const a = attrs(n)
  const [x, wn, bn] = n.input!
  const w = g.constOf(wn!)
  const b = bn ? g.constOf(bn) : undefined
  if (!w || w.shape.length !== 2 || num(a.get('transA')?.i) || (a.get('alpha')?.f ?? 1) !== 1 || (a.get('beta')?.f ?? 1) !== 1) return g.refuse(n, `whose ${role} Gemm is not x·Wᵀ + b`)
  const weight = num(a.get('transB')?.i) ? w : transpose(w, w.shape[0]!, w.shape[1]!)
  return { x: x!, weight, ...(b ? { bias: b } : {}), nodes: [n] }
}

/** [i, o] → [o, i] (ONNX's MatMul weight as PyTorch's Linear weight). */
function transpose(w: Tensor, i: number, o: number): Tensor {
  const d = new Float64Array(i * o)
  for (let r = 0; r < i; r++) for (let c = 0; c < o; c++) d[c * i + r] = w.data[r * o + c]!
  return { shape: [o, i], data: d }
}

import type { Activation } from '../../ir/types.ts'
import type { ONode, OTensor } from './proto.ts'

/**
 * PyTorch activations that torch.onnx.export writes as several nodes, recognised as a whole (the nodes
 * between are Constants, skipped):
 * - GELU (erf): Div(x, √2) → Erf → Add 1 → Mul x → Mul 0.5;
 * - GELU (tanh): Mul(x, x) → Mul x → Mul 0.044715 → Add x → Mul √(2/π) → Tanh → Add 1 → Mul x → Mul 0.5;
 * - SiLU: Sigmoid → Mul x; Mish: Softplus → Tanh → Mul x; Hardswish (opset < 14): HardSigmoid → Mul x.
 */
export type Pattern = { activation: Activation; label: string; nodes: ONode[]; out: string }

const near = (v: number | undefined, want: number) => v !== undefined && Math.abs(v - want) < 1e-6 * Math.max(1, Math.abs(want))

/**
 * Match a pattern at nodes[i] (whose data input is `x`). `scalar` reads a constant input (an initializer or
 * a Constant node's value anywhere in the graph), undefined when not a scalar constant.
 */
export function matchPattern(nodes: ONode[], i: number, x: string, scalar: (name: string) => number | undefined): Pattern | undefined {
  const seq: ONode[] = []
  for (let k = i; k < nodes.length && seq.length < 9; k++) if (nodes[k]!.op_type !== 'Constant') seq.push(nodes[k]!)
  const out = (k: number) => seq[k]?.output?.[0] ?? ''
  const ins = (k: number) => seq[k]?.input ?? []
  const is = (k: number, op: string) => seq[k]?.op_type === op
  /** Binary node k takes exactly {a, b} (a scalar constant ≈ c when b is a number). */
  const takes = (k: number, a: string, b: string | number) => {
    const [p, q] = ins(k)
    if (p === undefined || q === undefined) return false
    if (typeof b === 'number') return (p === a && near(scalar(q), b)) || (q === a && near(scalar(p), b))
    return (p === a && q === b) || (p === b && q === a)
  }
  const done = (n: number, activation: Activation, label: string): Pattern => ({ activation, label, nodes: seq.slice(0, n), out: out(n - 1) })
  const gate = (k: number) => is(k, 'Mul') && takes(k, x, out(k - 1))

  if (is(0, 'Sigmoid') && ins(0)[0] === x && gate(1)) return done(2, { kind: 'silu' }, 'SiLU (Sigmoid·x pattern)')
  if (is(0, 'Softplus') && ins(0)[0] === x && is(1, 'Tanh') && ins(1)[0] === out(0) && gate(2)) return done(3, { kind: 'mish' }, 'Mish (Softplus→Tanh·x pattern)')
  if (is(0, 'HardSigmoid') && ins(0)[0] === x && gate(1)) return done(2, { kind: 'hardswish' }, 'Hardswish (HardSigmoid·x pattern)')
  const erfHead = (is(0, 'Div') && takes(0, x, Math.SQRT2)) || (is(0, 'Mul') && takes(0, x, Math.SQRT1_2))
  if (erfHead && is(1, 'Erf') && ins(1)[0] === out(0) && is(2, 'Add') && takes(2, out(1), 1) && gate(3) && is(4, 'Mul') && takes(4, out(3), 0.5))
    return done(5, { kind: 'gelu', approximate: 'none' }, 'GELU (Erf pattern)')
  if (
    is(0, 'Mul') && takes(0, x, x) &&
    is(1, 'Mul') && takes(1, x, out(0)) &&
    is(2, 'Mul') && takes(2, out(1), 0.044715) &&
    is(3, 'Add') && takes(3, x, out(2)) &&
    is(4, 'Mul') && takes(4, out(3), Math.sqrt(2 / Math.PI)) &&
    is(5, 'Tanh') && ins(5)[0] === out(4) &&
    is(6, 'Add') && takes(6, out(5), 1) &&
    gate(7) &&
    is(8, 'Mul') && takes(8, out(7), 0.5)
  )
    return done(9, { kind: 'gelu', approximate: 'tanh' }, 'GELU (tanh pattern)')
  return undefined
}

/**
 * For a refusal: the PyTorch layer a node belongs to when the nodes around it show a known pattern only in
 * part (an Erf is GELU's), else undefined.
 */
export function partialPatternOf(nodes: ONode[], i: number): string | undefined {
  const window = nodes.slice(Math.max(0, i - 6), i + 7)
  const near = window.map((n) => n.op_type)
  // an Erf fed by a Div (x/√2) or Mul (x·(1/√2)): GELU's
  const producer = (t: string | undefined) => nodes.find((n) => n.output?.includes(t ?? ''))
  if (window.some((n) => n.op_type === 'Erf' && /^(Div|Mul)$/.test(producer(n.input?.[0])?.op_type ?? ''))) return 'GELU (Erf pattern)'
  if (nodes[i]?.op_type === 'Tanh' && near.filter((o) => o === 'Mul').length >= 4) return 'GELU (tanh pattern)'
  if (nodes[i]?.op_type === 'Sigmoid' && nodes[i + 1]?.op_type === 'Mul') return 'SiLU (Sigmoid·x pattern)'
  // a ReduceMean with a Sqrt and a Div near it: LayerNorm's decomposition (matched whole by normOps.ts when it fits)
  if (near.includes('ReduceMean') && near.includes('Sqrt') && near.includes('Div')) return 'LayerNorm (ReduceMean pattern)'
  return undefined
}

/** A scalar constant's value: an initializer, or a Constant node's `value` anywhere in the graph. */
export function scalarReader(nodes: ONode[], initializers: Map<string, OTensor>, decode: (t: OTensor) => { data: Float64Array }): (name: string) => number | undefined {
  const constNodes = new Map<string, OTensor>()
  for (const n of nodes)
    if (n.op_type === 'Constant' && n.output?.[0]) {
      const t = n.attribute?.find((a) => a.name === 'value')?.t
      if (t) constNodes.set(n.output[0], t)
    }
  return (name) => {
    const t = initializers.get(name) ?? constNodes.get(name)
    if (!t) return undefined
    const d = decode(t).data
    return d.length === 1 ? d[0] : undefined
  }
}

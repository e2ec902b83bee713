import { attrs, num, type ONode, type OTensor } from './proto.ts'
import { onnxTensorData } from './tensorData.ts'

/** A small constant tensor's values (1-D or scalar), with whether ONNX computes on it as integers. */
export type ConstVal = { v: number[]; int: boolean }

const INT_TYPES = new Set([2, 3, 4, 5, 6, 7, 12, 13])

/**
 * Evaluate the shape arithmetic and scalar constants torch.onnx.export writes around a pattern (Constant,
 * Shape, Gather, Unsqueeze, Squeeze, Concat, Slice, Cast, Add, Sub, Mul, Div, Sqrt, Reciprocal) on small
 * tensors. `shapeOf` gives the shape of a computed tensor where the caller knows it (else undefined). Integer
 * Div truncates, as ONNX does on int64. Undefined where a value depends on something unknown.
 */
export function constEvaluator(nodes: ONode[], inits: Map<string, OTensor>, shapeOf: (name: string) => number[] | undefined, file: string): (name: string) => ConstVal | undefined {
  const producer = new Map<string, ONode>()
  for (const n of nodes) for (const o of n.output ?? []) producer.set(o, n)
  const memo = new Map<string, ConstVal | undefined>()
  const tensor = (t: OTensor): ConstVal => ({ v: Array.from(onnxTensorData(t, file).data), int: INT_TYPES.has(t.data_type ?? 1) })
  const ev = (name: string): ConstVal | undefined => {
    if (memo.has(name)) return memo.get(name)
    memo.set(name, undefined)
    const r = compute(name)
    memo.set(name, r)
    return r
  }
  const compute = (name: string): ConstVal | undefined => {
    const init = inits.get(name)
    if (init) return init.dims && init.dims.map(num).reduce((a, b) => a * b, 1) > 64 ? undefined : tensor(init)
    const shape = shapeOf(name)
    const n = producer.get(name)
    if (!n) return undefined
    const op = n.op_type ?? ''
    const a = attrs(n)
    const ins = n.input ?? []
    if (op === 'Constant') return a.get('value')?.t ? tensor(a.get('value')!.t!) : undefined
    if (op === 'Shape') {
      const s = shapeOf(ins[0] ?? '')
      return s ? { v: s, int: true } : undefined
    }
    if (shape) return undefined
    const x = ev(ins[0] ?? '')
    if (!x) return undefined
    switch (op) {
      case 'Identity':
      case 'Unsqueeze':
      case 'Squeeze':
        return x
      case 'Cast': {
        const to = num(a.get('to')?.i)
        const int = INT_TYPES.has(to)
        return { v: int ? x.v.map(Math.trunc) : x.v, int }
      }
      case 'Sqrt':
        return { v: x.v.map(Math.sqrt), int: false }
      case 'Reciprocal':
        return { v: x.v.map((u) => 1 / u), int: false }
      case 'Gather': {
        const idx = ev(ins[1] ?? '')
        if (!idx || num(a.get('axis')?.i) !== 0) return undefined
        return { v: idx.v.map((i) => x.v[i < 0 ? i + x.v.length : i]!), int: x.int }
      }
      case 'Concat': {
        const parts = ins.map((i) => ev(i))
        if (parts.some((p) => !p)) return undefined
        return { v: parts.flatMap((p) => p!.v), int: x.int }
      }
      case 'Slice': {
        const [s, e] = [ev(ins[1] ?? ''), ev(ins[2] ?? '')]
        if (!s || !e || ins[3] || ins[4]) return undefined
        const len = x.v.length
        const at = (k: number) => Math.max(0, Math.min(len, k < 0 ? k + len : k))
        return { v: x.v.slice(at(s.v[0]!), at(e.v[0]!)), int: x.int }
      }
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Div': {
        const y = ev(ins[1] ?? '')
        if (!y) return undefined
        const len = Math.max(x.v.length, y.v.length)
        if ((x.v.length !== 1 && x.v.length !== len) || (y.v.length !== 1 && y.v.length !== len)) return undefined
        const int = x.int && y.int
        const f = (p: number, q: number) => (op === 'Add' ? p + q : op === 'Sub' ? p - q : op === 'Mul' ? p * q : int ? Math.trunc(p / q) : p / q)
        return { v: Array.from({ length: len }, (_, k) => f(x.v[x.v.length === 1 ? 0 : k]!, y.v[y.v.length === 1 ? 0 : k]!)), int }
      }
    }
    return undefined
  }
  return ev
}

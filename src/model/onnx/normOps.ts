import { ModelError } from '../../errors/base.ts'
import type { ArchStep } from '../../ir/types.ts'
import type { OnnxContext, OnnxNode } from './context.ts'
import { num, shortestFloat32, type ONode } from './proto.ts'

/** The LayerNorm (ReduceMean pattern) torch.onnx.export writes below opset 17, matched at its first ReduceMean. */
export type LayerNormPattern = { nodes: ONode[]; out: string; eps: number; weight?: string; bias?: string }

const lastAxis = (n: ONode | undefined) => {
  const axes = n?.attribute?.find((a) => a.name === 'axes')?.ints?.map(num)
  return axes !== undefined && axes.length === 1 && (axes[0] === -1 || axes[0] === 1)
}

/**
 * ReduceMean(x) → Sub(x, mean) → Pow(d, 2) → ReduceMean → Add ε → Sqrt → Div(d, ·) [→ Mul γ → Add β]
 * over the last axis (Constants between are skipped). `scalar` reads a scalar constant, `isConst` says
 * whether a name is an initializer (γ, β).
 */
export function matchLayerNorm(nodes: ONode[], i: number, x: string, scalar: (name: string) => number | undefined, isConst: (name: string) => boolean): LayerNormPattern | undefined {
  const seq: ONode[] = []
  for (let k = i; k < nodes.length && seq.length < 9; k++) if (nodes[k]!.op_type !== 'Constant') seq.push(nodes[k]!)
  const is = (k: number, op: string) => seq[k]?.op_type === op
  const out = (k: number) => seq[k]?.output?.[0] ?? ''
  const ins = (k: number) => seq[k]?.input ?? []
  if (!(is(0, 'ReduceMean') && ins(0)[0] === x && lastAxis(seq[0]))) return undefined
  const ok =
    is(1, 'Sub') && ins(1)[0] === x && ins(1)[1] === out(0) &&
    is(2, 'Pow') && ins(2)[0] === out(1) && scalar(ins(2)[1] ?? '') === 2 &&
    is(3, 'ReduceMean') && ins(3)[0] === out(2) && lastAxis(seq[3]) &&
    is(4, 'Add') && ins(4)[0] === out(3) && scalar(ins(4)[1] ?? '') !== undefined &&
    is(5, 'Sqrt') && ins(5)[0] === out(4) &&
    is(6, 'Div') && ins(6)[0] === out(1) && ins(6)[1] === out(5)
  if (!ok) return undefined
  const eps = shortestFloat32(scalar(ins(4)[1]!)!)
  const other = (k: number, from: string) => ins(k).find((v) => v !== from)
  const mul = is(7, 'Mul') && ins(7).includes(out(6)) && isConst(other(7, out(6)) ?? '') ? other(7, out(6)) : undefined
  const add = mul && is(8, 'Add') && ins(8).includes(out(7)) && isConst(other(8, out(7)) ?? '') ? other(8, out(7)) : undefined
  const n = 7 + (mul ? 1 : 0) + (add ? 1 : 0)
  return { nodes: seq.slice(0, n), out: out(n - 1), eps, ...(mul ? { weight: mul } : {}), ...(add ? { bias: add } : {}) }
}

/** The matched pattern as a norm step; γ and β stored under `<name>.weight` / `<name>.bias`. */
export function layerNormPatternStep(ctx: OnnxContext, p: LayerNormPattern): ArchStep {
  const name = ctx.stepName(p.nodes[0]!, p.weight && /\.weight$/.test(p.weight) ? p.weight : undefined)
  if (p.weight) ctx.tensors.set(`${name}.weight`, ctx.constTensor(p.weight))
  if (p.bias) ctx.tensors.set(`${name}.bias`, ctx.constTensor(p.bias))
  return { op: 'norm', name, what: 'LayerNorm', groups: 1, eps: p.eps, ...(p.weight ? { weight: `${name}.weight` } : {}), ...(p.bias ? { bias: `${name}.bias` } : {}) }
}

/** LayerNormalization (opset 17) over the last axis: a norm step. Returns false for other ops. */
export function mapNormOp(ctx: OnnxContext, { n, op, ins, x, a }: OnnxNode): boolean {
  if (op !== 'LayerNormalization') return false
  const axis = a.get('axis')?.i === undefined ? -1 : num(a.get('axis')!.i)
  if (axis !== -1 && axis !== 1) ctx.unsupportedNode(n, `LayerNorm over axis ${axis}: ml2sc normalises the last axis of (batch, features)`)
  if (ins[0] !== x || [ins[1], ins[2]].some((k) => k && !ctx.consts.has(k))) ctx.unsupportedNode(n, 'its scale and bias must be initializers')
  const name = ctx.stepName(n, ins[1] && /\.weight$/.test(ins[1]) ? ins[1] : undefined)
  if (ins[1]) ctx.tensors.set(`${name}.weight`, ctx.constTensor(ins[1]))
  if (ins[2]) ctx.tensors.set(`${name}.bias`, ctx.constTensor(ins[2]))
  ctx.steps.push({ op: 'norm', name, what: 'LayerNorm', groups: 1, eps: a.get('epsilon')?.f ?? 1e-5, ...(ins[1] ? { weight: `${name}.weight` } : {}), ...(ins[2] ? { bias: `${name}.bias` } : {}) })
  return true
}

/** torch exports GroupNorm as Reshape → InstanceNormalization → Reshape → Mul → Add: refused in one line naming it. */
export function refuseInstanceNorm(n: ONode, file: string): never {
  throw new ModelError(`unsupported ONNX InstanceNormalization node '${n.name || n.output?.[0] || '?'}' (PyTorch GroupNorm, InstanceNormalization pattern)`, {
    where: file,
    hint: 'ml2sc runs nn.GroupNorm from model.py + the state_dict (model.source); from ONNX it reads LayerNormalization and the LayerNorm ReduceMean pattern',
  })
}

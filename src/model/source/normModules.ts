import { ModelError } from '../../errors/base.ts'
import type { ArchStep } from '../../ir/types.ts'
import { dotted, text, unsupported, type Ctx, type Node } from './expressions.ts'

type Call = Extract<Node, { k: 'call' }>

export const NORM_CLASSES = ['LayerNorm', 'GroupNorm']

/** An argument by keyword, else by position. */
const arg = (node: Call, name: string, pos: number): Node | undefined => node.kwargs.get(name) ?? node.args[pos]

function num(ctx: Ctx, n: Node | undefined, what: string): number | undefined {
  if (n === undefined) return undefined
  if (n.k === 'num') return n.v
  unsupported(ctx, `${what} = ${text(ctx, n)}`, n.line)
}

const flag = (n: Node | undefined): boolean | undefined => (n?.k === 'name' && (n.id === 'True' || n.id === 'False') ? n.id === 'True' : undefined)

/** LayerNorm's normalized_shape: `n`, `(n,)`, `[n]` (the last dim of a (batch, n) tensor); else refused naming it. */
function normalizedShape(ctx: Ctx, n: Node | undefined, where: string): number | undefined {
  if (n === undefined) return undefined
  if (n.k === 'num') return n.v
  if ((n.k === 'tuple' || n.k === 'list') && n.items.length === 1 && n.items[0]!.k === 'num') return n.items[0]!.v
  // x.shape[-1:], (x.size(-1),), (x.shape[-1],): the last dim, width from the tensor
  if (/^(\(\s*)?\w+\s*\.\s*(shape\s*\[\s*-1\s*:?\s*\]|size\s*\(\s*-1\s*\))(\s*,\s*\))?$/.test(text(ctx, n))) return undefined
  throw new ModelError(`LayerNorm over ${text(ctx, n)} at ${where}: ml2sc normalises over the last dim of a (batch, features) tensor only`, { where: ctx.where, hint: 'nn.LayerNorm(n) with n the number of features' })
}

/** `nn.LayerNorm(8)`, `nn.LayerNorm(8, eps=1e-6, elementwise_affine=False)`, `nn.GroupNorm(2, 8)` in __init__. */
export function normModuleSteps(ctx: Ctx, cls: string, node: Call, prefix: string): ArchStep[] | undefined {
  const where = `${ctx.file}:${node.line}`
  if (cls === 'LayerNorm') {
    const size = normalizedShape(ctx, arg(node, 'normalized_shape', 0), where)
    const eps = num(ctx, arg(node, 'eps', 1), 'eps') ?? 1e-5
    const affine = flag(arg(node, 'elementwise_affine', 2)) ?? true
    return [{ op: 'norm', name: prefix, what: 'LayerNorm', groups: 1, eps, ...(size ? { size } : {}), ...(affine ? { weight: `${prefix}.weight`, bias: `${prefix}.bias` } : {}) }]
  }
  if (cls === 'GroupNorm') {
    const groups = num(ctx, arg(node, 'num_groups', 0), 'num_groups')
    const size = num(ctx, arg(node, 'num_channels', 1), 'num_channels')
    if (groups === undefined || size === undefined) unsupported(ctx, text(ctx, node), node.line)
    const eps = num(ctx, arg(node, 'eps', 2), 'eps') ?? 1e-5
    const affine = flag(arg(node, 'affine', 3)) ?? true
    return [{ op: 'norm', name: prefix, what: 'GroupNorm', groups, eps, size, ...(affine ? { weight: `${prefix}.weight`, bias: `${prefix}.bias` } : {}) }]
  }
  return undefined
}

/** A tensor named in forward as `self.gamma` / `self.ln.weight`: its state_dict key; None: absent. */
function paramKey(ctx: Ctx, n: Node | undefined): string | undefined {
  if (n === undefined || (n.k === 'name' && n.id === 'None')) return undefined
  const d = dotted(n)
  if (d?.startsWith('self.')) return d.slice('self.'.length)
  unsupported(ctx, text(ctx, n), n.line)
}

/** `F.layer_norm(x, (n,), self.w, self.b, eps=1e-5)`, `F.group_norm(x, 2, self.w, self.b)` in forward: the step (its input is args[0]). */
export function functionalNormStep(ctx: Ctx, fname: string, node: Call): ArchStep | undefined {
  const where = `${ctx.file}:${node.line}`
  if (fname === 'layer_norm') {
    const size = normalizedShape(ctx, arg(node, 'normalized_shape', 1), where)
    const eps = num(ctx, arg(node, 'eps', 4), 'eps') ?? 1e-5
    const weight = paramKey(ctx, arg(node, 'weight', 2))
    const bias = paramKey(ctx, arg(node, 'bias', 3))
    return { op: 'norm', name: `layer_norm@${node.line}`, what: 'LayerNorm', groups: 1, eps, ...(size ? { size } : {}), ...(weight ? { weight } : {}), ...(bias ? { bias } : {}) }
  }
  if (fname === 'group_norm') {
    const groups = num(ctx, arg(node, 'num_groups', 1), 'num_groups')
    if (groups === undefined) unsupported(ctx, text(ctx, node), node.line)
    const eps = num(ctx, arg(node, 'eps', 4), 'eps') ?? 1e-5
    const weight = paramKey(ctx, arg(node, 'weight', 2))
    const bias = paramKey(ctx, arg(node, 'bias', 3))
    return { op: 'norm', name: `group_norm@${node.line}`, what: 'GroupNorm', groups, eps, ...(weight ? { weight } : {}), ...(bias ? { bias } : {}) }
  }
  return undefined
}

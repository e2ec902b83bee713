import type { ArchStep } from '../../ir/types.ts'
import { isTorchActivation, torchActivation, type ArgOf } from '../torchActivations.ts'

export { ACTIVATION_CLASSES } from '../torchActivations.ts'
import { text, unsupported, type Ctx, type Node } from './expressions.ts'

/** A call's arguments as torchActivations reads them: keyword, else positional (after `offset` leading inputs). */
function argsOf(ctx: Ctx, node: Extract<Node, { k: 'call' }>, offset: number): ArgOf {
  return (names, pos) => {
    const v = names.map((n) => node.kwargs.get(n)).find((x) => x !== undefined) ?? (pos >= 0 ? node.args[pos + offset] : undefined)
    if (v === undefined) return undefined
    if (v.k === 'num' || v.k === 'str') return v.v
    if (v.k === 'name' && (v.id === 'True' || v.id === 'False')) return v.id === 'True'
    unsupported(ctx, text(ctx, v), v.line)
  }
}

/** `nn.GELU(approximate='tanh')`, `nn.ReLU6()`, `nn.PReLU(4)` in __init__: the steps, or undefined for other classes. */
export function activationModuleSteps(ctx: Ctx, cls: string, node: Extract<Node, { k: 'call' }>, prefix: string): ArchStep[] | undefined {
  if (cls === 'PReLU') return [{ op: 'prelu', name: prefix }]
  if (!isTorchActivation(cls)) return undefined
  const activation = torchActivation(cls, argsOf(ctx, node, 0), `${cls} '${prefix}' at ${ctx.file}:${node.line}`, ctx.where)!
  return [{ op: 'activation', activation, name: prefix }]
}

/** `F.gelu(x)`, `torch.nn.functional.elu(x, alpha=0.5)`, `F.log_softmax(x, dim=1)` in forward: the step, or undefined. */
export function functionalActivationStep(ctx: Ctx, fname: string, node: Extract<Node, { k: 'call' }>, method = false): ArchStep | undefined {
  if (!isTorchActivation(fname)) return undefined
  const activation = torchActivation(fname, argsOf(ctx, node, method ? 0 : 1), `${fname} at ${ctx.file}:${node.line}`, ctx.where)!
  return { op: 'activation', activation, name: fname }
}

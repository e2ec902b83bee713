import type { ArchStep } from '../../ir/types.ts'
import { tensorModuleSteps, TENSOR_MODULES } from '../ptTensorModules.ts'
import { text, unsupported, type Ctx, type Node } from './expressions.ts'
import { constValue } from './constants.ts'

/** Constructor / function signatures, positional order as in PyTorch. */
const SIGNATURES: Record<string, string[]> = {
  Conv: ['in_channels', 'out_channels', 'kernel_size', 'stride', 'padding', 'dilation', 'groups', 'bias', 'padding_mode'],
  MaxPool: ['kernel_size', 'stride', 'padding', 'dilation', 'return_indices', 'ceil_mode'],
  AvgPool: ['kernel_size', 'stride', 'padding', 'ceil_mode', 'count_include_pad', 'divisor_override'],
  AdaptiveAvgPool: ['output_size'],
  AdaptiveMaxPool: ['output_size', 'return_indices'],
  BatchNorm2d: ['num_features', 'eps', 'momentum', 'affine', 'track_running_stats'],
  // F.max_pool2d(input, ...) puts ceil_mode before return_indices
  max_pool: ['input', 'kernel_size', 'stride', 'padding', 'dilation', 'ceil_mode', 'return_indices'],
  avg_pool: ['input', 'kernel_size', 'stride', 'padding', 'ceil_mode', 'count_include_pad', 'divisor_override'],
  adaptive_avg_pool: ['input', 'output_size'],
  adaptive_max_pool: ['input', 'output_size', 'return_indices'],
}

/** F.max_pool2d and friends → the module class they stand for. */
export const FUNCTIONAL_POOLS: Record<string, string> = {
  max_pool1d: 'MaxPool1d', max_pool2d: 'MaxPool2d', avg_pool1d: 'AvgPool1d', avg_pool2d: 'AvgPool2d',
  adaptive_avg_pool1d: 'AdaptiveAvgPool1d', adaptive_avg_pool2d: 'AdaptiveAvgPool2d',
  adaptive_max_pool1d: 'AdaptiveMaxPool1d', adaptive_max_pool2d: 'AdaptiveMaxPool2d',
}

export const isConvModule = (cls: string) => TENSOR_MODULES.has(cls)

/** A literal argument: a number, a string, True/False/None, a tuple/list of numbers, or a known constant (a constructor's parameter). */
function literal(ctx: Ctx, node: Node, what: string): unknown {
  if (node.k === 'num' || node.k === 'str') return node.v
  if (node.k === 'name' && (node.id === 'True' || node.id === 'False')) return node.id === 'True'
  if (node.k === 'name' && node.id === 'None') return null
  if (node.k === 'tuple' || node.k === 'list') return node.items.map((it) => literal(ctx, it, what))
  // a constructor's parameter (`nn.Conv2d(c, c, 3)` in a block built as Block(6)), or arithmetic on them
  const c = constValue(ctx, node)
  if (typeof c === 'number' || typeof c === 'string' || typeof c === 'boolean') return c
  unsupported(ctx, `${what} = ${text(ctx, node)}`, node.line)
}

/** The argument values of a call by name, from its positional and keyword arguments. */
function argsOf(ctx: Ctx, call: Extract<Node, { k: 'call' }>, signature: string[], skip: number): Map<string, unknown> {
  const out = new Map<string, unknown>()
  call.args.forEach((a, i) => {
    const name = signature[i]
    if (!name) unsupported(ctx, text(ctx, call), call.line)
    if (i >= skip) out.set(name, literal(ctx, a, name))
  })
  for (const [k, v] of call.kwargs) {
    if (!signature.includes(k)) unsupported(ctx, text(ctx, call), call.line)
    if (k !== 'input') out.set(k, literal(ctx, v, k))
  }
  return out
}

const familyOf = (cls: string) => cls.replace(/[12]d$/, '').replace(/^BatchNorm$/, 'BatchNorm2d')

/** Steps for `nn.Conv2d(1, 8, 5)`, `nn.MaxPool2d(2)`, `nn.AdaptiveAvgPool2d(1)`, `nn.BatchNorm2d(8)` … named `prefix`. */
export function convModuleSteps(ctx: Ctx, cls: string, call: Extract<Node, { k: 'call' }>, prefix: string): ArchStep[] {
  const args = argsOf(ctx, call, SIGNATURES[cls === 'BatchNorm2d' ? cls : familyOf(cls)]!, 0)
  return tensorModuleSteps({ short: cls, path: prefix, attr: (k) => args.get(k) }, `${ctx.file}:${call.line}`)!
}

/** The step of `F.max_pool2d(x, 2)`, `F.avg_pool1d(x, kernel_size=2)`, `F.adaptive_avg_pool2d(x, 1)`. */
export function functionalPoolStep(ctx: Ctx, fname: string, call: Extract<Node, { k: 'call' }>): ArchStep {
  const cls = FUNCTIONAL_POOLS[fname]!
  const args = argsOf(ctx, call, SIGNATURES[fname.replace(/[12]d$/, '')]!, 1)
  return tensorModuleSteps({ short: cls, path: fname, attr: (k) => args.get(k) }, `${ctx.file}:${call.line}`)![0]!
}

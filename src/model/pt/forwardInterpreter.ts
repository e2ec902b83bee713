import type { Activation, ArchStep } from '../../ir/types.ts'
import { isTorchActivation, torchActivation } from '../torchActivations.ts'
import { tensorModuleSteps } from '../ptTensorModules.ts'
import { TensorRef } from '../unpickle.ts'
import type { Node } from './moduleTree.ts'
import type { ClassCode } from './torchscriptCode.ts'
import { ForwardUnreadable, parseExpr, type Expr } from './scriptExpr.ts'
import type { SeqVal } from '../sequenceValues.ts'
import { recurrentCall, seqCall, seqTensor, SeqUnsupported, type CallVal } from './recurrentCalls.ts'
import { alongDim, headValues, joinValues } from '../source/joinValues.ts'
import { bufferCall, type BufferVal } from './bufferCalls.ts'
import { inputPartCall, partAsTensor, type PartVal } from './inputParts.ts'
import { constantBranch, constArith, unrollLoop } from './scriptBranches.ts'
import { attentionCall, attentionPool, type AttnVal } from './attentionCalls.ts'

/** What the interpreter needs from readPt: the archive's classes, and the steps of a submodule. */
export type ForwardCtx = { classes: Map<string, ClassCode>; stepsOf: (node: Node) => ArchStep[] }

// A tiny symbolic interpreter for TorchScript forward() bodies that are straight-line chains:
//   fc1 = self.fc1 / _0 = getattr(self, "0") / x = torch.relu((fc1).forward(x, )) / return …
// Each tensor value is the list of steps applied to the input so far.

export { ForwardUnreadable }

type Val =
  // `input`: the model's own input, whose columns may feed nn.Embedding (./inputParts.ts)
  | { k: 'tensor'; steps: ArchStep[]; input?: true }
  | PartVal
  | { k: 'self' }
  | { k: 'module'; node: Node }
  | { k: 'method'; node: Node; method: string }
  | { k: 'fn'; name: string }
  | { k: 'const'; v: unknown }
  // a GRU/LSTM's result (./recurrentCalls.ts): a sequence value, a tuple of them, a list holding them
  | { k: 'seq'; steps: ArchStep[]; s: SeqVal }
  | { k: 'tuple'; items: Val[] }
  | { k: 'list'; items: Val[] }
  | BufferVal
  // a MultiheadAttention / TransformerEncoderLayer's output sequence (./attentionCalls.ts)
  | AttnVal


export function followForward(node: Node, ctx: ForwardCtx): ArchStep[] {
  const cc = ctx.classes.get(node.rawClass)
  if (!cc?.forward) throw new ForwardUnreadable(`no forward() found for ${node.rawClass} in the archive's code/`)
  const { params, body } = cc.forward
  const inputs = params.slice(1)
  if (inputs.length !== 1) throw new ForwardUnreadable(`forward() takes ${inputs.length} inputs (${inputs.join(', ')}); one is supported`)
  const env = new Map<string, Val>([
    ['self', { k: 'self' }],
    [inputs[0]!, { k: 'tensor', steps: [], ...(node.path === '' ? { input: true as const } : {}) }],
  ])
  const lines = [...body]
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!
    const line = raw.trim()
    if (line === 'pass') continue
    // `if _3:` on a constant (a scripted loop's index condition): the branch that holds (./scriptBranches.ts)
    const cond = /^if (\w+):$/.exec(line)
    if (cond && raw.startsWith('    ') && !raw.startsWith('     ')) {
      const c = env.get(cond[1]!)
      if (c?.k !== 'const' || typeof c.v !== 'boolean') throw new ForwardUnreadable(`control flow on a value computed from the input ("${line}")`)
      const { chosen, next } = constantBranch(lines, i, c.v)
      lines.splice(i, next - i, ...chosen)
      i--
      continue
    }
    // `for _0 in range(3):` with a constant trip count: unrolled in place (./scriptBranches.ts)
    if (raw.startsWith('    ') && !raw.startsWith('     ') && unrollLoop(lines, i, (src) => ((v) => (v.k === 'const' ? v.v : undefined))(evaluate(parseExpr(src, line), env, node, ctx, line)))) {
      i--
      continue
    }
    if (!raw.startsWith('    ') || raw.startsWith('     ') || line.endsWith(':'))
      throw new ForwardUnreadable(`control flow is not supported ("${line}")`)
    if (line.startsWith('return ')) {
      let v = evaluate(parseExpr(line.slice(7), line), env, node, ctx, line)
      if (v.k === 'part') v = partAsTensor(v, (w) => new ForwardUnreadable(`${w} in "${line}"`))
      if (v.k === 'seq') v = { k: 'tensor', steps: seqCatch(() => seqTensor(v as CallVal), line) }
      // return (a, b): a multi-output model (its heads named out0, out1, …: TorchScript keeps no names)
      if (v.k === 'tuple' && v.items.length > 1 && v.items.every((x) => x.k === 'tensor'))
        return headValues(v.items.map(() => undefined), v.items.map((x) => (x as { steps: ArchStep[] }).steps))
      if (v.k !== 'tensor') throw new ForwardUnreadable(`forward() does not return a tensor ("${line}")`)
      return v.steps
    }
    // out, h, = (gru).forward__0(x, None, ): a tuple unpacked
    const tu = line.match(/^(\w+(?:\s*,\s*\w+)+)\s*,?\s*=\s*(.+)$/)
    if (tu) {
      const v = evaluate(parseExpr(tu[2]!, line), env, node, ctx, line)
      const names = tu[1]!.split(',').map((n) => n.trim())
      if (v.k !== 'tuple' || v.items.length !== names.length) throw new ForwardUnreadable(`cannot unpack "${line}"`)
      names.forEach((n, i) => env.set(n, v.items[i]!))
      continue
    }
    const m = line.match(/^(\w+)\s*=\s*(.+)$/)
    if (!m) throw new ForwardUnreadable(`cannot read "${line}"`)
    env.set(m[1]!, evaluate(parseExpr(m[2]!, line), env, node, ctx, line))
  }
  throw new ForwardUnreadable('forward() has no return statement')
}

function evaluate(e: Expr, env: Map<string, Val>, node: Node, ctx: ForwardCtx, line: string): Val {
  const fail = (why: string) => new ForwardUnreadable(`${why} in "${line}"`)
  switch (e.t) {
    case 'num':
      return { k: 'const', v: e.v }
    case 'str':
      return { k: 'const', v: e.v }
    case 'name': {
      const v = env.get(e.v)
      if (v) return v
      if (e.v === 'None') return { k: 'const', v: null }
      if (e.v === 'True' || e.v === 'False') return { k: 'const', v: e.v === 'True' }
      if (['torch', '__torch__', 'ops', 'getattr', 'unchecked_cast', 'annotate', 'int', 'List'].includes(e.v)) return { k: 'fn', name: e.v }
      throw fail(`unknown name '${e.v}'`)
    }
    case 'attr': {
      const base = evaluate(e.obj, env, node, ctx, line)
      if (base.k === 'self') return selfAttr(node, e.name, fail)
      if (base.k === 'fn') return { k: 'fn', name: `${base.name}.${e.name}` }
      if (base.k === 'module') {
        // mix.first: a ModuleDict's (or a block's) submodule; else a method of the module
        const child = base.node.children.find((c) => c.path.split('.').pop() === e.name)
        return child ? { k: 'module', node: child } : { k: 'method', node: base.node, method: e.name }
      }
      throw fail(`attribute '${e.name}' of a ${base.k}`)
    }
    case 'tuple':
      return { k: 'tuple', items: e.items.map((it) => evaluate(it, env, node, ctx, line)) }
    case 'list': {
      // [2, 2] is a constant; [int(_0), -1] (a view's shape) is shape arithmetic: opaque
      const items = e.items.map((it) => evaluate(it, env, node, ctx, line))
      if (items.some((it) => it.k === 'seq' || it.k === 'tensor' || it.k === 'part')) return { k: 'list', items }
      return { k: 'const', v: items.every((it) => it.k === 'const' && it.v !== OPAQUE) ? items.map((it) => (it as { v: unknown }).v) : OPAQUE }
    }
    case 'subscript':
      return { k: 'const', v: OPAQUE } // (torch.size(x))[0], List[int]: shapes and types
    case 'call': {
      const fn = evaluate(e.fn, env, node, ctx, line)
      let args = e.args.map((a) => evaluate(a, env, node, ctx, line))
      const kwargs = new Map([...e.kwargs].map(([k, a]) => [k, evaluate(a, env, node, ctx, line)] as const))
      const raw = (x: Expr): unknown => (x.t === 'num' ? x.v : x.t === 'list' ? x.items.map(raw) : ((v) => (v.k === 'const' && v.v !== OPAQUE ? v.v : v.k === 'fn' ? v.name : 'opaque'))(evaluate(x, env, node, ctx, line)))
      // columns of the input and nn.Embedding lookups (./inputParts.ts); a part anywhere else is the input concatenation
      const fnName = fn.k === 'fn' ? fn.name.replace(/^__torch__\./, '') : undefined
      const part = inputPartCall(fnName, fn.k === 'method' ? fn : undefined, args, [...e.args.map(raw), ...[...e.kwargs.values()].map(raw)], (n) => ctx.classes.get(n.rawClass), fail)
      if (part) return part as Val
      args = args.map((a) => (a.k === 'part' ? partAsTensor(a, fail) : a.k === 'list' ? { k: 'list', items: a.items.map((it) => (it.k === 'part' ? partAsTensor(it, fail) : it)) } : a))
      // a scripted MultiheadAttention / TransformerEncoderLayer, or the pooling of its output (./attentionCalls.ts)
      if (fn.k === 'method' && fn.method === 'forward' && /^(MultiheadAttention|TransformerEncoderLayer)$/.test(fn.node.short)) {
        const sa = fn.node.children.find((c) => c.short === 'MultiheadAttention')
        const r = attentionCall(fn.node.short, ctx.stepsOf(fn.node), (w) => ctx.classes.get((w === 'attn' && sa ? sa : fn.node).rawClass)?.finals, args)
        if (typeof r === 'string') throw fail(r)
        return r as Val
      }
      if (fn.k === 'fn' && args[0]?.k === 'attn') {
        const r = attentionPool(fn.name, args[0], args.slice(1))
        if (typeof r === 'string') throw fail(r)
        return r
      }
      // a GRU/LSTM submodule, or a call taking its result (./recurrentCalls.ts)
      if (fn.k === 'method' && /^forward(__\d+)?$/.test(fn.method) && (fn.node.short === 'GRU' || fn.node.short === 'LSTM')) {
        const r = recurrentCall(ctx.stepsOf(fn.node)[0]!, ctx.classes.get(fn.node.rawClass), fn.method, args.length > 1 && !(args[1]!.k === 'const' && args[1]!.v === null))
        if (typeof r === 'string') throw fail(r)
        return r as Val
      }
      const sv = seqCatch(
        () => seqCall(fnName, args as CallVal[], e.args.map(raw), fn.k === 'method' ? () => ctx.stepsOf(fn.node) : undefined, () => (applyFunction(fnName!, [{ k: 'tensor', steps: [] }, ...args.slice(1)], kwargs, fail) as { steps: ArchStep[] }).steps),
        line,
      )
      if (sv) return sv as Val
      if (fn.k === 'method') {
        // (layers0).__len__(): an nn.ModuleList's length, a constant
        if (fn.method === '__len__' && args.length === 0) return { k: 'const', v: fn.node.children.length }
        // forward1, forward2, …: trace's names for the second, third, … call of one submodule (a loop over it)
        if (!/^forward\d*$/.test(fn.method)) throw fail(`call of method '${fn.method}'`)
        if (args.length === 0) return { k: 'const', v: null } // traced Identity: forward() with no input
        const x = args[0]!
        if (x.k !== 'tensor' || args.length !== 1) throw fail('a submodule called with other than one tensor')
        return { k: 'tensor', steps: [...x.steps, ...ctx.stepsOf(fn.node)] }
      }
      if (fn.k !== 'fn') throw fail(`call of a ${fn.k}`)
      const name = fn.name.replace(/^__torch__\./, '')
      if (name === 'getattr') {
        const [obj, attr] = args
        // getattr(layers, "0"): an element of an nn.ModuleList
        const child = obj?.k === 'module' && attr?.k === 'const' ? obj.node.children.find((c) => c.path.split('.').pop() === attr.v) : undefined
        if (child) return { k: 'module', node: child }
        if (obj?.k !== 'self' || attr?.k !== 'const' || typeof attr.v !== 'string') throw fail('getattr on something other than self')
        return selfAttr(node, attr.v, fail)
      }
      const arith = constArith(name, args.map((a) => (a.k === 'const' ? a.v : undefined)), OPAQUE)
      if (arith !== undefined) return { k: 'const', v: arith }
      return joinCall(name, args, kwargs, fail) ?? bufferCall(name, args) ?? applyFunction(name, args, kwargs, fail)
    }
  }
}

/** torch.add(a, b) (a residual sum) and torch.cat([a, b], 1) (features side by side) of two tensor values. */
function joinCall(name: string, args: Val[], kwargs: Map<string, Val>, fail: (w: string) => Error): Val | undefined {
  const constOf = (v: Val | undefined) => (v === undefined ? undefined : v.k === 'const' ? v.v : 'opaque')
  if (name === 'torch.add' && args[0]?.k === 'tensor' && args[1]?.k === 'tensor') {
    const alpha = constOf(args[2] ?? kwargs.get('alpha'))
    if (alpha !== undefined && alpha !== 1) throw fail(`torch.add with alpha ${String(alpha)}`)
    return { k: 'tensor', steps: joinValues('add', [args[0].steps, args[1].steps], name) }
  }
  if (name === 'torch.cat' && args[0]?.k === 'list') {
    const dim = constOf(args[1] ?? kwargs.get('dim'))
    if (dim !== 1 && dim !== -1) throw fail(`torch.cat along dim ${String(dim)} (along the features, dim=1, is read)`)
    const parts = args[0].items
    if (!parts.length || parts.some((p) => p.k !== 'tensor')) throw fail('torch.cat of other than tensors')
    return { k: 'tensor', steps: alongDim(joinValues('concat', parts.map((p) => (p as { steps: ArchStep[] }).steps), name), dim) }
  }
  return undefined
}

/** A sequence value's refusal, as the interpreter's: the forward() is then not read (model.source is asked for). */
function seqCatch<T>(f: () => T, line: string): T {
  try {
    return f()
  } catch (e) {
    if (e instanceof SeqUnsupported) throw new ForwardUnreadable(`${e.message} is not supported on chain in "${line}"`)
    throw e
  }
}

function selfAttr(node: Node, name: string, fail: (w: string) => Error): Val {
  const child = node.children.find((c) => c.path.split('.').pop() === name)
  if (child) return { k: 'module', node: child }
  const v = node.attrs.get(name)
  // a buffer: read where torch.sub/div/mul applies it (bufferCalls.ts); any other use is refused there
  if (v instanceof TensorRef) return { k: 'buffer', key: node.path ? `${node.path}.${name}` : name }
  if (v === undefined) throw fail(`unknown attribute self.${name}`)
  return { k: 'const', v }
}

const FN_ALIASES: Record<string, string> = {
  'torch.relu': 'relu', 'torch.relu_': 'relu', 'torch.nn.functional.relu': 'relu', 'torch.nn.functional.relu_': 'relu',
  'torch.sigmoid': 'sigmoid', 'torch.sigmoid_': 'sigmoid', 'torch.nn.functional.sigmoid': 'sigmoid',
  'torch.tanh': 'tanh', 'torch.tanh_': 'tanh', 'torch.nn.functional.tanh': 'tanh',
  'torch.leaky_relu': 'leaky_relu', 'torch.leaky_relu_': 'leaky_relu', 'torch.nn.functional.leaky_relu': 'leaky_relu',
  'torch.nn.functional.leaky_relu_': 'leaky_relu',
  'torch.softmax': 'softmax', 'torch.nn.functional.softmax': 'softmax',
  'torch.dropout': 'skip', 'torch.nn.functional.dropout': 'skip', 'torch.feature_dropout': 'skip',
  'torch.flatten': 'flatten', 'torch.view': 'flatten', 'torch.reshape': 'flatten',
  'torch.contiguous': 'skip',
}

/** Calls that compute shapes or types (torch.size, int, annotate, …): their values stay opaque. */
const SHAPE_FNS = new Set(['torch.size', 'ops.prim.NumToTensor', 'int', 'annotate', 'torch.len', 'unchecked_cast'])
const OPAQUE = Symbol('shape arithmetic')

/** Functional pooling in TorchScript code → the module it stands for, and its arguments after the input. */
const POOL_FNS: Record<string, { cls: string; params: string[] }> = (() => {
  const out: Record<string, { cls: string; params: string[] }> = {}
  for (const d of ['1d', '2d']) {
    const max = { cls: `MaxPool${d}`, params: ['kernel_size', 'stride', 'padding', 'dilation', 'ceil_mode', 'return_indices'] }
    const avg = { cls: `AvgPool${d}`, params: ['kernel_size', 'stride', 'padding', 'ceil_mode', 'count_include_pad', 'divisor_override'] }
    const ada = { cls: `AdaptiveAvgPool${d}`, params: ['output_size'] }
    for (const pre of ['torch.', 'torch.nn.functional.', 'torch.nn.functional._']) {
      out[`${pre}max_pool${d}`] = max
      out[`${pre}avg_pool${d}`] = avg
      out[`${pre}adaptive_avg_pool${d}`] = ada
      out[`${pre}adaptive_max_pool${d}`] = { cls: `AdaptiveMaxPool${d}`, params: ['output_size', 'return_indices'] }
    }
  }
  return out
})()

function applyFunction(name: string, args: Val[], kwargs: Map<string, Val>, fail: (w: string) => Error): Val {
  if (SHAPE_FNS.has(name)) return name === 'annotate' && args[1] ? args[1] : { k: 'const', v: OPAQUE }
  const pool = POOL_FNS[name]
  if (pool) {
    const x = args[0]
    if (x?.k !== 'tensor') throw fail(`'${name}' not applied to the input chain`)
    const value = (i: number, kw: string) => {
      const v = args[i + 1] ?? kwargs.get(kw)
      if (v === undefined) return undefined
      if (v.k !== 'const' || v.v === OPAQUE) throw fail(`non-constant argument ${kw} of '${name}'`)
      return v.v
    }
    const attrs = new Map(pool.params.map((p, i) => [p, value(i, p)] as const))
    const steps = tensorModuleSteps({ short: pool.cls, path: name.split('.').pop()!.replace(/^_/, ''), attr: (k) => attrs.get(k) }, 'TorchScript code')!
    // torch.adaptive_max_pool1d returns (values, indices): `x0, _0 = torch.adaptive_max_pool1d(x, [4])`
    const out: Val = { k: 'tensor', steps: [...x.steps, ...steps] }
    return /^torch\.adaptive_max_pool[12]d$/.test(name) ? { k: 'tuple', items: [out, { k: 'const', v: OPAQUE }] } : out
  }
  // torch.gelu, torch.nn.functional.relu6, torch.elu_, torch.log_softmax, …: the activations of ../torchActivations.ts
  const fname = /^torch\.(?:nn\.functional\.)?([a-z0-9_]+?)_?$/.exec(name)?.[1]
  if (fname && isTorchActivation(fname)) {
    const x = args[0]
    if (x?.k !== 'tensor') throw fail(`'${name}' not applied to the input chain`)
    const activation = torchActivation(
      fname,
      ([kw], pos) => {
        const v = (pos >= 0 ? args[pos + 1] : undefined) ?? kwargs.get(kw!)
        if (v === undefined || (v.k === 'const' && v.v === null)) return undefined
        if (v.k !== 'const' || !['number', 'string', 'boolean'].includes(typeof v.v)) throw fail(`non-constant argument ${kw} of '${name}'`)
        return v.v as number | string | boolean
      },
      `'${name}' in TorchScript code`,
      'TorchScript code',
    )!
    return { k: 'tensor', steps: [...x.steps, { op: 'activation', activation }] }
  }
  const kind = FN_ALIASES[name]
  if (!kind) throw fail(`unsupported call '${name}'`)
  const x = args[0]
  if (x?.k !== 'tensor') throw fail(`'${name}' not applied to the input chain`)
  const arg = (i: number, kw: string): unknown => {
    const v = args[i] ?? kwargs.get(kw)
    if (v === undefined) return undefined
    if (v.k !== 'const') throw fail(`non-constant argument ${kw} of '${name}'`)
    return v.v
  }
  let activation: Activation | undefined
  switch (kind) {
    case 'relu':
    case 'sigmoid':
    case 'tanh':
      activation = { kind }
      break
    case 'leaky_relu': {
      const s = arg(1, 'negative_slope')
      activation = { kind: 'leaky_relu', slope: typeof s === 'number' ? s : 0.01 }
      break
    }
    case 'softmax': {
      const d = arg(1, 'dim')
      if (!(d === undefined || d === null || d === 1 || d === -1)) throw fail(`softmax over dim ${String(d)}`)
      activation = { kind: 'softmax' }
      break
    }
    case 'skip':
      return x
    case 'flatten':
      if (name === 'torch.flatten' && typeof arg(1, 'start_dim') === 'number' && arg(1, 'start_dim') !== 1) throw fail('flatten over the batch dimension')
      return { k: 'tensor', steps: [...x.steps, { op: 'flatten', name: name.slice('torch.'.length) }] }
  }
  return { k: 'tensor', steps: [...x.steps, { op: 'activation', activation: activation! }] }
}

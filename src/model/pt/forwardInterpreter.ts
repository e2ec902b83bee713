import type { ArchStep } from '../../ir/types.ts'
import { TensorRef } from '../unpickle.ts'
import type { Node } from './moduleTree.ts'
import type { ClassCode } from './torchscriptCode.ts'
import { ForwardUnreadable, parseExpr, type Expr } from './scriptExpr.ts'
import { recurrentCall, seqCall, seqTensor, SeqUnsupported, type CallVal } from './recurrentCalls.ts'
import { alongDim, headValues, joinValues } from '../source/joinValues.ts'
import { bufferCall } from './bufferCalls.ts'
import { inputPartCall, partAsTensor } from './inputParts.ts'
import { constantBranch, constArith, unrollLoop } from './scriptBranches.ts'
import { attentionCall, attentionPool } from './attentionCalls.ts'
import { OPAQUE, type Val } from './scriptValues.ts'
import { applyFunction } from './scriptFunctions.ts'

/** What the interpreter needs from readPt: the archive's classes, and the steps of a submodule. */
export type ForwardCtx = { classes: Map<string, ClassCode>; stepsOf: (node: Node) => ArchStep[] }

// A tiny symbolic interpreter for TorchScript forward() bodies that are straight-line chains:
//   fc1 = self.fc1 / _0 = getattr(self, "0") / x = torch.relu((fc1).forward(x, )) / return …
// Each tensor value is the list of steps applied to the input so far.

export { ForwardUnreadable }



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

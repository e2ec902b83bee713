import type { Activation, ArchStep } from '../../ir/types.ts'
import { isTorchActivation, torchActivation } from '../torchActivations.ts'
import { tensorModuleSteps } from '../ptTensorModules.ts'
import { TensorRef } from '../unpickle.ts'
import type { Node } from './moduleTree.ts'
import type { ClassCode } from './torchscriptCode.ts'

/** What the interpreter needs from readPt: the archive's classes, and the steps of a submodule. */
export type ForwardCtx = { classes: Map<string, ClassCode>; stepsOf: (node: Node) => ArchStep[] }

// A tiny symbolic interpreter for TorchScript forward() bodies that are straight-line chains:
//   fc1 = self.fc1 / _0 = getattr(self, "0") / x = torch.relu((fc1).forward(x, )) / return …
// Each tensor value is the list of steps applied to the input so far.

export class ForwardUnreadable extends Error {}

type Val =
  | { k: 'tensor'; steps: ArchStep[] }
  | { k: 'self' }
  | { k: 'module'; node: Node }
  | { k: 'method'; node: Node; method: string }
  | { k: 'fn'; name: string }
  | { k: 'const'; v: unknown }

type Expr =
  | { t: 'name'; v: string }
  | { t: 'num'; v: number }
  | { t: 'str'; v: string }
  | { t: 'attr'; obj: Expr; name: string }
  | { t: 'call'; fn: Expr; args: Expr[]; kwargs: Map<string, Expr> }
  | { t: 'list'; items: Expr[] }
  | { t: 'subscript'; obj: Expr }

export function followForward(node: Node, ctx: ForwardCtx): ArchStep[] {
  const cc = ctx.classes.get(node.rawClass)
  if (!cc?.forward) throw new ForwardUnreadable(`no forward() found for ${node.rawClass} in the archive's code/`)
  const { params, body } = cc.forward
  const inputs = params.slice(1)
  if (inputs.length !== 1) throw new ForwardUnreadable(`forward() takes ${inputs.length} inputs (${inputs.join(', ')}); one is supported`)
  const env = new Map<string, Val>([
    ['self', { k: 'self' }],
    [inputs[0]!, { k: 'tensor', steps: [] }],
  ])
  for (const raw of body) {
    const line = raw.trim()
    if (!raw.startsWith('    ') || raw.startsWith('     ') || line.endsWith(':'))
      throw new ForwardUnreadable(`control flow is not supported ("${line}")`)
    if (line.startsWith('return ')) {
      const v = evaluate(parseExpr(line.slice(7), line), env, node, ctx, line)
      if (v.k !== 'tensor') throw new ForwardUnreadable(`forward() does not return a tensor ("${line}")`)
      return v.steps
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
      if (base.k === 'module') return { k: 'method', node: base.node, method: e.name }
      throw fail(`attribute '${e.name}' of a ${base.k}`)
    }
    case 'list': {
      // [2, 2] is a constant; [int(_0), -1] (a view's shape) is shape arithmetic: opaque
      const items = e.items.map((it) => evaluate(it, env, node, ctx, line))
      return { k: 'const', v: items.every((it) => it.k === 'const' && it.v !== OPAQUE) ? items.map((it) => (it as { v: unknown }).v) : OPAQUE }
    }
    case 'subscript':
      return { k: 'const', v: OPAQUE } // (torch.size(x))[0], List[int]: shapes and types
    case 'call': {
      const fn = evaluate(e.fn, env, node, ctx, line)
      const args = e.args.map((a) => evaluate(a, env, node, ctx, line))
      const kwargs = new Map([...e.kwargs].map(([k, a]) => [k, evaluate(a, env, node, ctx, line)] as const))
      if (fn.k === 'method') {
        if (fn.method !== 'forward') throw fail(`call of method '${fn.method}'`)
        if (args.length === 0) return { k: 'const', v: null } // traced Identity: forward() with no input
        const x = args[0]!
        if (x.k !== 'tensor' || args.length !== 1) throw fail('a submodule called with other than one tensor')
        return { k: 'tensor', steps: [...x.steps, ...ctx.stepsOf(fn.node)] }
      }
      if (fn.k !== 'fn') throw fail(`call of a ${fn.k}`)
      const name = fn.name.replace(/^__torch__\./, '')
      if (name === 'getattr') {
        const [obj, attr] = args
        if (obj?.k !== 'self' || attr?.k !== 'const' || typeof attr.v !== 'string') throw fail('getattr on something other than self')
        return selfAttr(node, attr.v, fail)
      }
      return applyFunction(name, args, kwargs, fail)
    }
  }
}

function selfAttr(node: Node, name: string, fail: (w: string) => Error): Val {
  const child = node.children.find((c) => c.path.split('.').pop() === name)
  if (child) return { k: 'module', node: child }
  const v = node.attrs.get(name)
  if (v instanceof TensorRef) throw fail(`direct use of the tensor self.${name}`)
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
    return { k: 'tensor', steps: [...x.steps, ...steps] }
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

// expression parser for the subset above

function parseExpr(src: string, line: string): Expr {
  const toks = tokenize(src, line)
  let i = 0
  const fail = (why: string) => new ForwardUnreadable(`${why} in "${line}"`)
  const peek = () => toks[i]
  const next = () => toks[i++]
  const expect = (t: string) => {
    if (toks[i] !== t) throw fail(`expected '${t}'`)
    i++
  }
  const primary = (): Expr => {
    const t = next()
    if (t === undefined) throw fail('unexpected end')
    if (t === '(') {
      const e = expr()
      if (peek() === ',') throw fail('tuples are not supported')
      expect(')')
      return e
    }
    if (t === '-') {
      const e = primary()
      if (e.t !== 'num') throw fail('unary minus on a non-number')
      return { t: 'num', v: -e.v }
    }
    if (t === '[') {
      const items: Expr[] = []
      while (peek() !== ']') {
        items.push(expr())
        if (peek() === ',') next()
        else if (peek() !== ']') throw fail(`unexpected '${peek() ?? 'end'}'`)
      }
      next()
      return { t: 'list', items }
    }
    if (/^[0-9.]/.test(t)) return { t: 'num', v: Number(t) }
    if (t[0] === '"' || t[0] === "'") return { t: 'str', v: t.slice(1, -1) }
    if (/^\w+$/.test(t)) return { t: 'name', v: t }
    throw fail(`unexpected '${t}'`)
  }
  const postfix = (): Expr => {
    let e = primary()
    for (;;) {
      if (peek() === '.') {
        next()
        const n = next()
        if (!n || !/^\w+$/.test(n)) throw fail('bad attribute')
        e = { t: 'attr', obj: e, name: n }
      } else if (peek() === '[') {
        // x[0], List[int]: an index or a type
        next()
        let depth = 1
        while (depth > 0) {
          const t = next()
          if (t === undefined) throw fail('unclosed [')
          depth += t === '[' ? 1 : t === ']' ? -1 : 0
        }
        e = { t: 'subscript', obj: e }
      } else if (peek() === '(') {
        next()
        const args: Expr[] = []
        const kwargs = new Map<string, Expr>()
        while (peek() !== ')') {
          if (toks[i + 1] === '=' && /^\w+$/.test(peek() ?? '')) {
            const k = next()!
            next()
            kwargs.set(k, expr())
          } else args.push(expr())
          if (peek() === ',') next()
          else if (peek() !== ')') throw fail(`unexpected '${peek() ?? 'end'}'`)
        }
        next()
        e = { t: 'call', fn: e, args, kwargs }
      } else return e
    }
  }
  const expr = (): Expr => {
    const e = postfix()
    const t = peek()
    if (t !== undefined && ![')', ',', ']'].includes(t)) throw fail(`operator '${t}' is not supported`)
    return e
  }
  const e = expr()
  if (i !== toks.length) throw fail(`unexpected '${toks[i]}'`)
  return e
}

function tokenize(src: string, line: string): string[] {
  const re = /\s*(?:(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|(\w+)|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(\S))/gy
  const out: string[] = []
  let m: RegExpExecArray | null
  re.lastIndex = 0
  while (re.lastIndex < src.length && (m = re.exec(src))) {
    const tok = m[1] ?? m[2] ?? m[3] ?? m[4]
    if (tok === undefined) break
    out.push(tok)
  }
  if (out.length === 0) throw new ForwardUnreadable(`empty expression in "${line}"`)
  return out
}

import { ModelError } from '../../errors/base.ts'
import type { Tok } from './tokenize.ts'

// ---------------------------------------------------------------------------------------------------
// Expressions: a recursive-descent parser for the Python expression subset a forward() needs.

export type Node =
  | { k: 'name'; id: string; a: number; b: number; line: number }
  | { k: 'num'; v: number; a: number; b: number; line: number }
  | { k: 'str'; v: string; a: number; b: number; line: number }
  | { k: 'attr'; obj: Node; attr: string; a: number; b: number; line: number }
  | { k: 'call'; fn: Node; args: Node[]; kwargs: Map<string, Node>; star: boolean; a: number; b: number; line: number }
  | { k: 'tuple' | 'list'; items: Node[]; a: number; b: number; line: number }
  | { k: 'add'; items: Node[]; a: number; b: number; line: number } // a + b + …: a residual add
  | { k: 'binop'; op: '-' | '/' | '*'; left: Node; right: Node; a: number; b: number; line: number } // x - self.mean, x / self.std
  | { k: 'other'; what: string; a: number; b: number; line: number; obj?: Node; index?: string; indexNode?: Node[] } // operators, subscripts (obj[index]), lambdas, ...
  | { k: 'ifexp'; body: Node; cond: Tok[]; orelse: Node; a: number; b: number; line: number } // `A if cond else B`: settled from constants (constants.ts)

/**
 * Where the reader is: the file, and for a class being read its constants (constructor defaults and
 * arguments: constants.ts), the state_dict prefix of its submodules (a custom block inlined as `b1.`),
 * and how to inline another class of the file (parseModuleSource.ts).
 */
export type Ctx = {
  file: string
  where: string
  src: string
  consts?: Map<string, unknown>
  prefix?: string
  /** The state_dict's keys, when known: how many elements a ModuleList built by a comprehension has. */
  keys?: string[]
  /** A call of a user-defined nn.Module class of this file (`Block(16)`): its steps named under `prefix`, or undefined. */
  instantiate?: (ctx: Ctx, call: Extract<Node, { k: 'call' }>, prefix: string) => import('../../ir/types.ts').ArchStep[] | undefined
}

/** A submodule's state_dict name: `attr`, or `prefix.attr` inside a custom block. */
export const qualified = (ctx: Ctx, attr: string) => (ctx.prefix ? `${ctx.prefix}.${attr}` : attr)

export function text(ctx: Ctx, node: { a: number; b: number }): string {
  const s = ctx.src.slice(node.a, node.b).replace(/\s*\n\s*/g, ' ').trim()
  return s.length > 80 ? `${s.slice(0, 77)}...` : s
}

export function unsupported(ctx: Ctx, what: string, line: number, hint?: string): never {
  throw new ModelError(`unsupported construct '${what}' at ${ctx.file}:${line}`, {
    where: ctx.where,
    hint:
      hint ??
      'ml2sc reads this subset: in __init__, self.x = nn.Linear / ReLU / LeakyReLU / Sigmoid / Tanh / Softmax / GELU / SiLU / ELU / ReLU6 / … / Dropout / Identity / Flatten / BatchNorm1d / Sequential(...); ' +
      'in forward, calls of those submodules and of F.relu, F.leaky_relu, torch.sigmoid, torch.tanh, F.softmax, F.gelu, F.silu, F.log_softmax, …, F.dropout, torch.flatten, x.view(x.size(0), -1), ' +
      'residual adds (h + f(h), h += f(h)), torch.cat([a, b], dim=1), nn.Embedding of an input column (self.emb(x[:, 0].long())), `if` on constructor flags, blocks of your own nn.Module classes, `for` loops over an nn.ModuleList / ModuleDict, nested or as `x = ...` assignments, then `return ...`',
  })
}

export class ExprParser {
  i = 0
  constructor(
    readonly toks: Tok[],
    readonly ctx: Ctx,
    readonly line: number,
  ) {}
  peek(): Tok | undefined {
    return this.toks[this.i]
  }
  isOp(v: string): boolean {
    const t = this.peek()
    return !!t && t.type === 'op' && t.value === v
  }
  expect(v: string): Tok {
    const t = this.peek()
    if (!t || t.value !== v) {
      const at = t ?? this.toks[this.toks.length - 1]
      unsupported(this.ctx, at ? this.ctx.src.slice(this.toks[0]!.start, at.end).trim() : v, at?.line ?? this.line)
    }
    this.i++
    return t
  }
  /** Parse one full expression; binary/unary operators, conditionals, lambdas become `other` nodes. */
  expr(): Node {
    const first = this.peek()
    if (!first) unsupported(this.ctx, '(empty expression)', this.line)
    if (first.type === 'name' && (first.value === 'lambda' || first.value === 'not' || first.value === 'yield' || first.value === 'await')) {
      const a = first.start
      this.skipToEndOfExpr()
      return { k: 'other', what: first.value, a, b: this.toks[this.i - 1]!.end, line: first.line }
    }
    let left = this.unary()
    // a chain of `+` only (a residual add) keeps its operands; any other operator makes the whole an `other`
    const terms: Node[] = [left]
    let onlyPlus = true
    const ops: string[] = []
    while (true) {
      const t = this.peek()
      if (!t) break
      const binop = t.type === 'op' && /^(\+|-|\*|\/|\/\/|%|@|\*\*|<<|>>|&|\||\^|<|>|==|!=|<=|>=)$/.test(t.value)
      const kwop = t.type === 'name' && /^(and|or|if|in|is|not)$/.test(t.value)
      if (!binop && !kwop) break
      this.i++
      if (t.value === 'if') {
        // `A if cond else B`: the condition's tokens up to its `else` (at depth 0), then B
        const body: Node = onlyPlus && terms.length > 1 ? { k: 'add', items: terms, a: terms[0]!.a, b: left.b, line: left.line } : terms.length === 1 ? terms[0]! : left
        const c0 = this.i
        let d = 0
        let k = c0
        for (; k < this.toks.length; k++) {
          const v = this.toks[k]!
          if (v.type === 'op' && '([{'.includes(v.value)) d++
          else if (v.type === 'op' && ')]}'.includes(v.value)) {
            if (d === 0) break
            d--
          } else if (d === 0 && v.type === 'name' && v.value === 'else') break
        }
        if (this.toks[k]?.value === 'else') {
          this.i = k + 1
          const orelse = this.expr()
          return { k: 'ifexp', body, cond: this.toks.slice(c0, k), orelse, a: body.a, b: orelse.b, line: body.line }
        }
        onlyPlus = false
        this.skipToEndOfExpr()
      } else {
        onlyPlus &&= t.value === '+'
        ops.push(t.value)
        terms.push(this.unary())
      }
      left = { k: 'other', what: t.value, a: left.a, b: this.toks[this.i - 1]!.end, line: left.line }
    }
    if (onlyPlus && terms.length > 1) return { k: 'add', items: terms, a: left.a, b: left.b, line: left.line }
    if (terms.length === 2 && (ops[0] === '-' || ops[0] === '/' || ops[0] === '*')) return { k: 'binop', op: ops[0], left: terms[0]!, right: terms[1]!, a: left.a, b: left.b, line: left.line }
    return left
  }
  private skipToEndOfExpr() {
    let d = 0
    while (this.i < this.toks.length) {
      const v = this.toks[this.i]!
      if (v.type === 'op' && '([{'.includes(v.value)) d++
      else if (v.type === 'op' && ')]}'.includes(v.value)) {
        if (d === 0) return
        d--
      } else if (v.type === 'op' && v.value === ',' && d === 0) return
      this.i++
    }
  }
  private unary(): Node {
    const t = this.peek()
    if (t && t.type === 'op' && (t.value === '-' || t.value === '+' || t.value === '~')) {
      this.i++
      const inner = this.unary()
      if (t.value !== '~' && inner.k === 'num') return { k: 'num', v: t.value === '-' ? -inner.v : inner.v, a: t.start, b: inner.b, line: t.line }
      return { k: 'other', what: t.value, a: t.start, b: inner.b, line: t.line }
    }
    return this.postfix()
  }
  private postfix(): Node {
    let node = this.atom()
    while (true) {
      if (this.isOp('.')) {
        this.i++
        const nameTok = this.peek()
        if (!nameTok || nameTok.type !== 'name') unsupported(this.ctx, text(this.ctx, node) + '.', node.line)
        this.i++
        node = { k: 'attr', obj: node, attr: nameTok.value, a: node.a, b: nameTok.end, line: node.line }
      } else if (this.isOp('(')) {
        this.i++
        const args: Node[] = []
        const kwargs = new Map<string, Node>()
        let star = false
        while (!this.isOp(')')) {
          if (this.isOp('*') || this.isOp('**')) {
            star = true
            this.i++
          }
          const t = this.peek()
          const t2 = this.toks[this.i + 1]
          if (t?.type === 'name' && t2?.type === 'op' && t2.value === '=') {
            this.i += 2
            kwargs.set(t.value, this.expr())
          } else args.push(this.expr())
          if (this.isOp(',')) this.i++
          else if (!this.isOp(')')) this.expect(')')
        }
        const close = this.expect(')')
        node = { k: 'call', fn: node, args, kwargs, star, a: node.a, b: close.end, line: node.line }
      } else if (this.isOp('[')) {
        const open = this.toks[this.i]!
        this.i++
        let d = 1
        while (this.i < this.toks.length && d > 0) {
          const v = this.toks[this.i]!
          if (v.type === 'op' && '([{'.includes(v.value)) d++
          if (v.type === 'op' && ')]}'.includes(v.value)) d--
          this.i++
        }
        const end = this.toks[this.i - 1]!.end
        node = { k: 'other', what: 'subscript', a: node.a, b: end, line: node.line, obj: node, index: this.ctx.src.slice(open.start, end) }
      } else break
    }
    return node
  }
  private atom(): Node {
    const t = this.peek()
    if (!t) unsupported(this.ctx, this.toks.length ? this.ctx.src.slice(this.toks[0]!.start, this.toks[this.toks.length - 1]!.end) : '', this.line)
    this.i++
    if (t.type === 'name') return { k: 'name', id: t.value, a: t.start, b: t.end, line: t.line }
    if (t.type === 'number') {
      const v = Number(t.value.replace(/_/g, ''))
      return { k: 'num', v, a: t.start, b: t.end, line: t.line }
    }
    if (t.type === 'string') {
      let end = t
      while (this.peek()?.type === 'string') end = this.toks[this.i++]! // implicit concatenation
      const body = /^[A-Za-z]*('''|"""|'|")([\s\S]*)\1$/.exec(t.value)
      return { k: 'str', v: body ? body[2]! : t.value, a: t.start, b: end.end, line: t.line }
    }
    if (t.type === 'op' && (t.value === '(' || t.value === '[' || t.value === '{')) {
      const close = t.value === '(' ? ')' : t.value === '[' ? ']' : '}'
      const items: Node[] = []
      let comma = false
      if (t.value === '{') {
        this.i--
        this.skipBalanced()
        return { k: 'other', what: 'dict', a: t.start, b: this.toks[this.i - 1]!.end, line: t.line }
      }
      while (!this.isOp(close)) {
        items.push(this.expr())
        const nt = this.peek()
        if (nt?.type === 'name' && nt.value === 'for') {
          this.i = this.findClose(close)
          return { k: 'other', what: 'comprehension', a: t.start, b: this.toks[this.i - 1]!.end, line: t.line }
        }
        if (this.isOp(',')) {
          comma = true
          this.i++
        } else if (!this.isOp(close)) this.expect(close)
      }
      const end = this.expect(close)
      if (t.value === '(' && !comma && items.length === 1) {
        const inner = items[0]!
        return { ...inner, a: t.start, b: end.end } as Node
      }
      return { k: t.value === '(' ? 'tuple' : 'list', items, a: t.start, b: end.end, line: t.line }
    }
    unsupported(this.ctx, t.value, t.line)
  }
  private skipBalanced() {
    let d = 0
    do {
      const v = this.toks[this.i++]!
      if (v.type === 'op' && '([{'.includes(v.value)) d++
      if (v.type === 'op' && ')]}'.includes(v.value)) d--
    } while (d > 0 && this.i < this.toks.length)
  }
  private findClose(close: string): number {
    let d = 1
    let k = this.i
    while (k < this.toks.length && d > 0) {
      const v = this.toks[k]!
      if (v.type === 'op' && '([{'.includes(v.value)) d++
      if (v.type === 'op' && ')]}'.includes(v.value)) d--
      k++
    }
    void close
    return k
  }
}

export function parseExpr(toks: Tok[], ctx: Ctx, line: number): Node {
  const p = new ExprParser(toks, ctx, line)
  const node = p.expr()
  if (p.i < toks.length) {
    // a trailing `, y` makes it a tuple; anything else is outside the subset
    const rest = toks[p.i]!
    if (rest.type === 'op' && rest.value === ',') return { k: 'tuple', items: [node], a: node.a, b: toks[toks.length - 1]!.end, line: node.line }
    unsupported(ctx, ctx.src.slice(toks[0]!.start, toks[toks.length - 1]!.end), rest.line)
  }
  return node
}

/** `nn.Linear`, `torch.nn.Linear`, `Linear` → `Linear`; `F.relu`, `torch.nn.functional.relu` → `F.relu`. */
export function dotted(node: Node): string | undefined {
  if (node.k === 'name') return node.id
  if (node.k === 'attr') {
    const base = dotted(node.obj)
    return base === undefined ? undefined : `${base}.${node.attr}`
  }
  return undefined
}

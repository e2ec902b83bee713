import { basename } from 'node:path'
import { ModelError } from '../errors/base.ts'
import type { Activation, ArchStep } from '../ir/types.ts'

/**
 * Read the architecture of an ML2SC-style PyTorch `nn.Module` from its Python source, without running
 * Python: the submodules `__init__` assigns to `self`, and the order `forward` applies them in.
 * Only a small, MLP-shaped subset of Python is understood; anything else is reported with its line.
 */
export function parseModuleSource(sourceText: string, className: string | undefined, file: string): ArchStep[] {
  // messages name `models.py:12`; `where` carries the full path
  const short = basename(file)
  const tokens = tokenize(sourceText, file, short)
  const stmts = parseBlock(new Cursor(tokens, file), 0)
  const ctx: Ctx = { file: short, where: file, src: sourceText }

  const classes = findClasses(stmts)
  const isModule = (c: ClassDef) => c.bases.some((b) => /^(torch\.)?(nn\.)?Module$/.test(b))
  let cls: ClassDef | undefined
  if (className) {
    cls = classes.find((c) => c.name === className)
    if (!cls)
      throw new ModelError(`no class '${className}' in ${short}`, {
        where: file,
        hint: classes.length ? `classes found: ${classes.map((c) => c.name).join(', ')}` : 'the file defines no classes',
      })
  } else {
    const mods = classes.filter(isModule)
    if (mods.length !== 1)
      throw new ModelError(mods.length ? `${short} defines ${mods.length} nn.Module classes; which one is the model?` : `${short} defines no nn.Module class`, {
        where: file,
        hint: mods.length ? `set model.class to one of: ${mods.map((c) => c.name).join(', ')}` : 'model.source must be the .py file with the model\'s `class X(nn.Module)`',
      })
    cls = mods[0]!
  }

  const method = (name: string) => cls!.body.find((s) => s.tokens[0]?.value === 'def' && s.tokens[1]?.value === name)
  const init = method('__init__')
  const forward = method('forward')
  if (!forward)
    throw new ModelError(`class '${cls.name}' has no forward() method at ${short}:${cls.line}`, {
      where: file,
      hint: 'ml2sc reads forward() from the class itself; inherited forward() methods are not followed',
    })
  const modules = init ? readInit(init, ctx) : new Map<string, Mod>()
  return readForward(forward, modules, ctx)
}

// ---------------------------------------------------------------------------------------------------
// Tokenizer: a small subset of Python's, with INDENT/DEDENT/NEWLINE and implicit line joining.

type TokType = 'name' | 'number' | 'string' | 'op' | 'newline' | 'indent' | 'dedent' | 'eof'
type Tok = { type: TokType; value: string; line: number; start: number; end: number }

function tokenize(src: string, where: string, file: string): Tok[] {
  const toks: Tok[] = []
  const indents = [0]
  let i = 0
  let line = 1
  let depth = 0
  let atLineStart = true
  const n = src.length
  const push = (type: TokType, value: string, start: number, end: number, ln = line) => toks.push({ type, value, line: ln, start, end })

  while (i < n) {
    if (atLineStart && depth === 0) {
      // measure indentation; skip blank and comment-only lines
      let col = 0
      let j = i
      while (j < n && (src[j] === ' ' || src[j] === '\t' || src[j] === '\f')) {
        col = src[j] === '\t' ? (Math.floor(col / 8) + 1) * 8 : col + 1
        j++
      }
      if (j >= n) break
      if (src[j] === '\n' || src[j] === '\r' || src[j] === '#') {
        while (j < n && src[j] !== '\n') j++
        i = j + 1
        line++
        continue
      }
      if (src[j] === '\\' && (src[j + 1] === '\n' || src[j + 1] === '\r')) {
        i = j
        atLineStart = false
        continue
      }
      if (col > indents[indents.length - 1]!) {
        indents.push(col)
        push('indent', '', j, j)
      } else {
        while (col < indents[indents.length - 1]!) {
          indents.pop()
          push('dedent', '', j, j)
        }
        if (col !== indents[indents.length - 1])
          throw new ModelError(`inconsistent indentation at ${file}:${line}`, { where, hint: 'the file must be valid Python' })
      }
      i = j
      atLineStart = false
    }
    const c = src[i]!
    if (c === '\n') {
      if (depth === 0) {
        push('newline', '', i, i)
        atLineStart = true
      }
      i++
      line++
      continue
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
      i++
      continue
    }
    if (c === '#') {
      while (i < n && src[i] !== '\n') i++
      continue
    }
    if (c === '\\' && (src[i + 1] === '\n' || (src[i + 1] === '\r' && src[i + 2] === '\n'))) {
      i += src[i + 1] === '\r' ? 3 : 2
      line++
      continue
    }
    // strings, with optional prefixes (r, b, f, u, rb, ...)
    const sm = /^([rRbBuUfF]{0,2})('''|"""|'|")/.exec(src.slice(i, i + 5))
    if (sm && (sm[1] === '' || /[A-Za-z]/.test(c))) {
      const start = i
      const startLine = line
      const quote = sm[2]!
      const raw = /[rR]/.test(sm[1]!)
      i += sm[0].length
      while (true) {
        if (i >= n) throw new ModelError(`unterminated string starting at ${file}:${startLine}`, { where, hint: 'the file must be valid Python' })
        const ch = src[i]!
        if (ch === '\\' && !raw) {
          if (src[i + 1] === '\n') line++
          i += 2
          continue
        }
        if (ch === '\\' && raw) {
          i += 2
          continue
        }
        if (src.startsWith(quote, i)) {
          i += quote.length
          break
        }
        if (ch === '\n') {
          if (quote.length === 1) throw new ModelError(`unterminated string at ${file}:${line}`, { where, hint: 'the file must be valid Python' })
          line++
        }
        i++
      }
      push('string', src.slice(start, i), start, i, startLine)
      continue
    }
    if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      const start = i
      while (i < n && /[A-Za-z0-9_\u0080-\uffff]/.test(src[i]!)) i++
      push('name', src.slice(start, i), start, i)
      continue
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][-+]?\d[\d_]*)?[jJ]?)/.exec(src.slice(i, i + 64))!
      push('number', m[0], i, i + m[0].length)
      i += m[0].length
      continue
    }
    const ops3 = ['**=', '//=', '>>=', '<<=', '...']
    const ops2 = ['**', '//', '==', '!=', '<=', '>=', '->', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '@=', ':=', '<<', '>>']
    const op = ops3.find((o) => src.startsWith(o, i)) ?? ops2.find((o) => src.startsWith(o, i)) ?? c
    if ('([{'.includes(op)) depth++
    if (')]}'.includes(op)) depth = Math.max(0, depth - 1)
    push('op', op, i, i + op.length)
    i += op.length
  }
  if (toks.length && toks[toks.length - 1]!.type !== 'newline' && toks[toks.length - 1]!.type !== 'dedent') push('newline', '', n, n)
  while (indents.length > 1) {
    indents.pop()
    push('dedent', '', n, n)
  }
  push('eof', '', n, n)
  return toks
}

// ---------------------------------------------------------------------------------------------------
// Statements: a logical line's tokens, plus the indented block under it when it ends with ':'.

type Stmt = { tokens: Tok[]; line: number; body?: Stmt[] }

class Cursor {
  i = 0
  constructor(
    readonly toks: Tok[],
    readonly file: string,
  ) {}
  peek(k = 0): Tok {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]!
  }
  next(): Tok {
    return this.toks[Math.min(this.i++, this.toks.length - 1)]!
  }
}

function parseBlock(c: Cursor, level: number): Stmt[] {
  const out: Stmt[] = []
  while (true) {
    const t = c.peek()
    if (t.type === 'eof') return out
    if (t.type === 'dedent') {
      if (level > 0) {
        c.next()
        return out
      }
      c.next()
      continue
    }
    if (t.type === 'newline' || t.type === 'indent') {
      c.next()
      continue
    }
    const tokens: Tok[] = []
    while (c.peek().type !== 'newline' && c.peek().type !== 'eof') tokens.push(c.next())
    if (c.peek().type === 'newline') c.next()
    const stmt: Stmt = { tokens, line: tokens[0]!.line }
    const last = tokens[tokens.length - 1]!
    if (last.type === 'op' && last.value === ':' && c.peek().type === 'indent') {
      c.next()
      stmt.body = parseBlock(c, level + 1)
    }
    out.push(stmt)
  }
}

type ClassDef = { name: string; bases: string[]; body: Stmt[]; line: number }

function findClasses(stmts: Stmt[]): ClassDef[] {
  const out: ClassDef[] = []
  for (const s of stmts) {
    const t = s.tokens
    if (t[0]?.value === 'class' && t[1]?.type === 'name') {
      const bases: string[] = []
      if (t[2]?.value === '(') {
        let cur = ''
        let d = 0
        for (let k = 3; k < t.length; k++) {
          const v = t[k]!.value
          if (v === '(' || v === '[') d++
          if (v === ')' && d === 0) break
          if (v === ')' || v === ']') d--
          if (v === ',' && d === 0) {
            bases.push(cur)
            cur = ''
          } else cur += v
        }
        if (cur) bases.push(cur)
      }
      out.push({ name: t[1].value, bases, body: s.body ?? [], line: s.line })
    } else if (s.body && t[0]?.value !== 'def') {
      out.push(...findClasses(s.body)) // e.g. classes under `if True:`
    }
  }
  return out
}

// ---------------------------------------------------------------------------------------------------
// Expressions: a recursive-descent parser for the Python expression subset a forward() needs.

type Node =
  | { k: 'name'; id: string; a: number; b: number; line: number }
  | { k: 'num'; v: number; a: number; b: number; line: number }
  | { k: 'str'; v: string; a: number; b: number; line: number }
  | { k: 'attr'; obj: Node; attr: string; a: number; b: number; line: number }
  | { k: 'call'; fn: Node; args: Node[]; kwargs: Map<string, Node>; star: boolean; a: number; b: number; line: number }
  | { k: 'tuple' | 'list'; items: Node[]; a: number; b: number; line: number }
  | { k: 'other'; what: string; a: number; b: number; line: number } // operators, subscripts, lambdas, ...

type Ctx = { file: string; where: string; src: string }

function text(ctx: Ctx, node: { a: number; b: number }): string {
  const s = ctx.src.slice(node.a, node.b).replace(/\s*\n\s*/g, ' ').trim()
  return s.length > 80 ? `${s.slice(0, 77)}...` : s
}

function unsupported(ctx: Ctx, what: string, line: number): never {
  throw new ModelError(`unsupported construct '${what}' at ${ctx.file}:${line}`, {
    where: ctx.where,
    hint:
      'ml2sc reads this subset: in __init__, self.x = nn.Linear / ReLU / LeakyReLU / Sigmoid / Tanh / Softmax / Dropout / Identity / Flatten / BatchNorm1d / Sequential(...); ' +
      'in forward, calls of those submodules and of F.relu, F.leaky_relu, torch.sigmoid, torch.tanh, F.softmax, F.dropout, torch.flatten, x.view(x.size(0), -1), ' +
      'nested or as `x = ...` assignments, then `return ...`',
  })
}

class ExprParser {
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
    while (true) {
      const t = this.peek()
      if (!t) break
      const binop = t.type === 'op' && /^(\+|-|\*|\/|\/\/|%|@|\*\*|<<|>>|&|\||\^|<|>|==|!=|<=|>=)$/.test(t.value)
      const kwop = t.type === 'name' && /^(and|or|if|in|is|not)$/.test(t.value)
      if (!binop && !kwop) break
      this.i++
      if (t.value === 'if') {
        this.skipToEndOfExpr()
      } else {
        this.unary()
      }
      left = { k: 'other', what: t.value, a: left.a, b: this.toks[this.i - 1]!.end, line: left.line }
    }
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
        this.i++
        let d = 1
        while (this.i < this.toks.length && d > 0) {
          const v = this.toks[this.i]!
          if (v.type === 'op' && '([{'.includes(v.value)) d++
          if (v.type === 'op' && ')]}'.includes(v.value)) d--
          this.i++
        }
        node = { k: 'other', what: 'subscript', a: node.a, b: this.toks[this.i - 1]!.end, line: node.line }
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

function parseExpr(toks: Tok[], ctx: Ctx, line: number): Node {
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
function dotted(node: Node): string | undefined {
  if (node.k === 'name') return node.id
  if (node.k === 'attr') {
    const base = dotted(node.obj)
    return base === undefined ? undefined : `${base}.${node.attr}`
  }
  return undefined
}

// ---------------------------------------------------------------------------------------------------
// __init__: the submodules.

/** A submodule: the steps it stands for (names are state_dict prefixes). */
type Mod = { steps: ArchStep[]; line: number }

const MODULE_CLASSES = ['Linear', 'ReLU', 'LeakyReLU', 'Sigmoid', 'Tanh', 'Softmax', 'Dropout', 'Identity', 'Flatten', 'BatchNorm1d', 'Sequential']

function moduleClass(name: string | undefined): string | undefined {
  if (!name) return undefined
  const m = /^(?:torch\.)?(?:nn\.)?(?:modules\.)?([A-Za-z_]\w*)$/.exec(name)
  return m ? m[1] : undefined
}

function numArg(ctx: Ctx, node: Node | undefined, what: string): number | undefined {
  if (node === undefined) return undefined
  if (node.k === 'num') return node.v
  if (node.k === 'name' && (node.id === 'True' || node.id === 'False')) return undefined
  unsupported(ctx, `${what} = ${text(ctx, node)}`, node.line)
}

/** Steps for a module constructor expression (`nn.Linear(4, 2)`, `nn.Sequential(...)`), named `prefix`. */
function moduleSteps(ctx: Ctx, node: Node, prefix: string, imports: Imports): ArchStep[] | undefined {
  if (node.k !== 'call') return undefined
  const full = dotted(node.fn)
  const cls = full && (full.startsWith('nn.') || full.startsWith('torch.nn.') || imports.nnNames.has(full)) ? moduleClass(full) : undefined
  if (!cls) return undefined
  switch (cls) {
    case 'Linear':
      return [{ op: 'linear', name: prefix }]
    case 'ReLU':
      return [{ op: 'activation', activation: { kind: 'relu' }, name: prefix }]
    case 'LeakyReLU': {
      const slope = numArg(ctx, node.kwargs.get('negative_slope') ?? node.args[0], 'negative_slope') ?? 0.01
      return [{ op: 'activation', activation: { kind: 'leaky_relu', slope }, name: prefix }]
    }
    case 'Sigmoid':
      return [{ op: 'activation', activation: { kind: 'sigmoid' }, name: prefix }]
    case 'Tanh':
      return [{ op: 'activation', activation: { kind: 'tanh' }, name: prefix }]
    case 'Softmax':
      return [{ op: 'activation', activation: { kind: 'softmax' }, name: prefix }]
    case 'Dropout':
    case 'Identity':
    case 'Flatten':
      return [{ op: 'skip', name: prefix }]
    case 'BatchNorm1d': {
      const eps = numArg(ctx, node.kwargs.get('eps') ?? node.args[1], 'eps') ?? 1e-5
      return [{ op: 'batchnorm', name: prefix, eps }]
    }
    case 'Sequential': {
      let items: { key: string; node: Node }[] = node.args.map((n, i) => ({ key: String(i), node: n }))
      // nn.Sequential(OrderedDict([('fc1', nn.Linear(...)), ...]))
      const only = node.args[0]
      if (node.args.length === 1 && only?.k === 'call' && /(^|\.)OrderedDict$/.test(dotted(only.fn) ?? '')) {
        const list = only.args[0]
        if (!list || (list.k !== 'list' && list.k !== 'tuple')) unsupported(ctx, text(ctx, only), only.line)
        items = list.items.map((it) => {
          if (it.k !== 'tuple' || it.items.length !== 2 || it.items[0]!.k !== 'str') unsupported(ctx, text(ctx, it), it.line)
          return { key: (it.items[0] as { v: string }).v, node: it.items[1]! }
        })
      }
      if (node.star || node.kwargs.size) unsupported(ctx, text(ctx, node), node.line)
      const steps: ArchStep[] = []
      for (const { key, node: item } of items) {
        const s = moduleSteps(ctx, item, `${prefix}.${key}`, imports)
        if (!s) unsupported(ctx, text(ctx, item), item.line)
        steps.push(...s)
      }
      return steps
    }
  }
  unsupported(ctx, text(ctx, node), node.line)
}

type Imports = { nnNames: Set<string> }

const FUNCTIONAL_ACTS: Record<string, Activation['kind'] | 'leaky_relu' | 'skip'> = {
  relu: 'relu',
  leaky_relu: 'leaky_relu',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
  softmax: 'softmax',
  dropout: 'skip',
  flatten: 'skip',
}

/** `F.relu`, `torch.relu`, `nn.functional.relu`, `torch.nn.functional.relu` → `relu`. */
function functionalName(full: string | undefined): string | undefined {
  if (!full) return undefined
  const m = /^(?:F|functional|nn\.functional|torch\.nn\.functional|torch)\.([a-z_]+)$/.exec(full)
  if (!m) return undefined
  const name = m[1]!
  if (full.startsWith('torch.') && !full.includes('functional') && name === 'leaky_relu') return undefined
  return name in FUNCTIONAL_ACTS ? name : undefined
}

function readInit(init: Stmt, ctx: Ctx): Map<string, Mod> {
  const modules = new Map<string, Mod>()
  const imports: Imports = { nnNames: new Set(MODULE_CLASSES) }
  for (const s of init.body ?? []) {
    const t = s.tokens
    const first = t[0]!
    if (s.body || /^(for|while|if|with|try|def|class)$/.test(first.value)) unsupported(ctx, headerText(ctx, s), s.line)
    if (first.type === 'string' || (first.type === 'name' && /^(pass|return)$/.test(first.value) && t.length === 1)) continue
    if (t.length === 1 && first.value === '...') continue
    if (/^(super\s*\([^)]*\)|(torch\.)?nn\.Module)\s*\.\s*__init__\s*\(/.test(headerText(ctx, s))) continue
    // self.x = <expr>   or   self.x: T = <expr>
    const eq = t.findIndex((tk) => tk.type === 'op' && tk.value === '=')
    if (first.value === 'self' && t[1]?.value === '.' && t[2]?.type === 'name' && eq > 2) {
      const attr = t[2].value
      if (eq !== 3 && t[3]?.value !== ':') unsupported(ctx, headerText(ctx, s), s.line)
      const rhsToks = t.slice(eq + 1)
      if (!rhsToks.length) unsupported(ctx, headerText(ctx, s), s.line)
      const rhs = parseExpr(rhsToks, ctx, s.line)
      const steps = moduleSteps(ctx, rhs, attr, imports)
      if (steps) {
        modules.set(attr, { steps, line: s.line })
        continue
      }
      // self.act = F.relu / torch.sigmoid: a function stored as an attribute
      const fn = functionalName(dotted(rhs))
      if (fn) {
        modules.set(attr, { steps: [functionalStep(fn, undefined)], line: s.line })
        continue
      }
      // a plain attribute (self.input_dim = input_dim, self.hidden = 4): fine unless it builds modules
      if (mentionsTorch(rhs, ctx)) unsupported(ctx, text(ctx, rhs), rhs.line)
      modules.delete(attr)
      continue
    }
    // a local variable (hidden = 4): fine unless it builds modules
    if (first.type === 'name' && eq > 0 && t.slice(0, eq).every((tk) => tk.type === 'name' || tk.value === ',' || tk.value === ':' || tk.value === '.')) {
      const rhs = parseExpr(t.slice(eq + 1), ctx, s.line)
      if (mentionsTorch(rhs, ctx)) unsupported(ctx, text(ctx, rhs), rhs.line)
      continue
    }
    unsupported(ctx, headerText(ctx, s), s.line)
  }
  return modules
}

function mentionsTorch(node: Node, ctx: Ctx): boolean {
  return /\b(nn|torch|F)\s*\./.test(ctx.src.slice(node.a, node.b))
}

function headerText(ctx: Ctx, s: Stmt): string {
  const t = s.tokens
  return text(ctx, { a: t[0]!.start, b: t[t.length - 1]!.end })
}

function functionalStep(fn: string, slope: number | undefined): ArchStep {
  const kind = FUNCTIONAL_ACTS[fn]!
  if (kind === 'skip') return { op: 'skip', name: fn }
  if (kind === 'leaky_relu') return { op: 'activation', activation: { kind: 'leaky_relu', slope: slope ?? 0.01 } }
  return { op: 'activation', activation: { kind } as Activation }
}

// ---------------------------------------------------------------------------------------------------
// forward: follow the data from the input to the returned value.

/** A tensor value in forward(): the steps applied to the input so far. */
type Value = { steps: ArchStep[] }
type Binding = { value: Value } | { error: () => never }

function readForward(fwd: Stmt, modules: Map<string, Mod>, ctx: Ctx): ArchStep[] {
  const header = fwd.tokens
  const open = header.findIndex((t) => t.value === '(')
  // parameters: self, then the input (type hints and defaults allowed)
  const params: string[] = []
  let d = 0
  let expectName = true
  for (let k = open + 1; k < header.length; k++) {
    const t = header[k]!
    if (t.value === '(' || t.value === '[') d++
    else if (t.value === ')' || t.value === ']') {
      if (d === 0) break
      d--
    } else if (d === 0 && t.value === ',') expectName = true
    else if (d === 0 && expectName && t.type === 'name') {
      params.push(t.value)
      expectName = false
    } else if (d === 0 && expectName && (t.value === '*' || t.value === '**')) {
      unsupported(ctx, headerText(ctx, fwd), fwd.line)
    }
  }
  const input = params[1]
  if (!input) throw new ModelError(`forward() at ${ctx.file}:${fwd.line} takes no input`, { where: ctx.where, hint: 'expected def forward(self, x)' })
  if (!fwd.body) unsupported(ctx, headerText(ctx, fwd), fwd.line)

  const env = new Map<string, Binding>([[input, { value: { steps: [] } }]])

  const evaluate = (node: Node): Value => {
    switch (node.k) {
      case 'name': {
        const b = env.get(node.id)
        if (!b) unsupported(ctx, node.id, node.line)
        if ('error' in b) return b.error()
        return b.value
      }
      case 'call': {
        if (node.star) unsupported(ctx, text(ctx, node), node.line)
        const fn = node.fn
        // self.<module>(x)
        if (fn.k === 'attr' && fn.obj.k === 'name' && fn.obj.id === 'self') {
          const mod = modules.get(fn.attr)
          if (!mod) unsupported(ctx, text(ctx, node), node.line)
          if (node.args.length !== 1 || node.kwargs.size) unsupported(ctx, text(ctx, node), node.line)
          const v = evaluate(node.args[0]!)
          return { steps: [...v.steps, ...mod.steps] }
        }
        const full = dotted(fn)
        // F.relu(x), torch.sigmoid(x), F.leaky_relu(x, 0.2), F.softmax(x, dim=1), torch.flatten(x, 1), F.dropout(x, p, training)
        const fname = functionalName(full)
        if (fname) {
          const arg = node.args[0] ?? node.kwargs.get('input')
          if (!arg) unsupported(ctx, text(ctx, node), node.line)
          const v = evaluate(arg)
          let slope: number | undefined
          if (fname === 'leaky_relu') slope = numArg(ctx, node.kwargs.get('negative_slope') ?? node.args[1], 'negative_slope')
          if (fname === 'flatten') {
            const start = numArg(ctx, node.kwargs.get('start_dim') ?? node.args[1], 'start_dim') ?? 0
            if (full!.startsWith('torch.') && start !== 1 && start !== -1 && node.args.length + node.kwargs.size > 1)
              unsupported(ctx, text(ctx, node), node.line)
          }
          return { steps: [...v.steps, functionalStep(fname, slope)] }
        }
        // x.view(x.size(0), -1), x.reshape(...), x.flatten(1), x.relu(), x.sigmoid(), x.float()
        if (fn.k === 'attr') {
          const method = fn.attr
          if (/^(view|reshape|flatten|float|double|contiguous|squeeze)$/.test(method)) {
            const v = evaluate(fn.obj)
            return { steps: [...v.steps, { op: 'skip', name: method }] }
          }
          if (/^(relu|sigmoid|tanh|softmax)$/.test(method)) {
            const v = evaluate(fn.obj)
            return { steps: [...v.steps, functionalStep(method, undefined)] }
          }
        }
        unsupported(ctx, text(ctx, node), node.line)
      }
      default:
        unsupported(ctx, text(ctx, node), node.line)
    }
  }

  for (const s of fwd.body) {
    const t = s.tokens
    const first = t[0]!
    if (s.body || /^(for|while|if|elif|else|with|try|def|class|del|global|nonlocal|assert|raise|import|from)$/.test(first.value))
      unsupported(ctx, headerText(ctx, s), s.line)
    if (first.type === 'string' && t.length === 1) continue // docstring
    if (first.value === 'pass' && t.length === 1) continue
    if (first.value === 'return') {
      if (t.length === 1) unsupported(ctx, 'return', s.line)
      const node = parseExpr(t.slice(1), ctx, s.line)
      const v = evaluate(node)
      return v.steps
    }
    // x = <expr>  /  x: Tensor = <expr>
    const eq = t.findIndex((tk) => tk.type === 'op' && tk.value === '=')
    if (first.type === 'name' && eq > 0 && (eq === 1 || t[1]!.value === ':')) {
      const name = first.value
      const rhs = parseExpr(t.slice(eq + 1), ctx, s.line)
      try {
        env.set(name, { value: evaluate(rhs) })
      } catch (err) {
        // only an error if the value is used later (helper variables like `n = x.size(0)` are fine)
        env.set(name, {
          error: () => {
            throw err
          },
        })
      }
      continue
    }
    unsupported(ctx, headerText(ctx, s), s.line)
  }
  throw new ModelError(`forward() at ${ctx.file}:${fwd.line} has no return statement`, { where: ctx.where, hint: 'forward must end with `return <output>`' })
}

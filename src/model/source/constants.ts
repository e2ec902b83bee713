import type { Tok } from './tokenize.ts'
import { parseExpr, text, unsupported, type Ctx, type Node } from './expressions.ts'
import type { Stmt } from './statements.ts'

/**
 * Values known without running Python: a constructor's parameters (their defaults, or the literal
 * arguments a parent module passes, `Block(16, use_skip=False)`), plain attributes (`self.use_skip =
 * use_skip`) and local names (`hidden = 16`). Keys are `name` or `self.attr`. ml2sc has no way to pass
 * constructor arguments to the top-level model: its defaults are what it reads.
 */
export type Consts = Map<string, unknown>

/** Marks a value ml2sc cannot know statically (a parameter without a default, a tensor, a call). */
export const UNKNOWN = Symbol('unknown')

/** The constant value of an expression, or UNKNOWN. */
export function constValue(ctx: Ctx, node: Node): unknown {
  if (node.k === 'num' || node.k === 'str') return node.v
  if (node.k === 'name') {
    if (node.id === 'True' || node.id === 'False') return node.id === 'True'
    if (node.id === 'None') return null
    return ctx.consts?.has(node.id) ? ctx.consts.get(node.id) : UNKNOWN
  }
  if (node.k === 'attr' && node.obj.k === 'name' && node.obj.id === 'self') return ctx.consts?.has(`self.${node.attr}`) ? ctx.consts.get(`self.${node.attr}`) : UNKNOWN
  if (node.k === 'tuple' || node.k === 'list') {
    const items = node.items.map((it) => constValue(ctx, it))
    return items.includes(UNKNOWN) ? UNKNOWN : items
  }
  if (node.k === 'ifexp') {
    const c = conditionValue(ctx, node.cond, node.line)
    return constValue(ctx, c ? node.body : node.orelse)
  }
  // i + 1, len(self.layers) - 1, 2 * hidden: arithmetic on known numbers (a loop index's condition)
  const nums = (ns: Node[]) => ns.map((n) => constValue(ctx, n)).filter((v): v is number => typeof v === 'number')
  if (node.k === 'add') return ((v) => (v.length === node.items.length ? v.reduce((a, b) => a + b) : UNKNOWN))(nums(node.items))
  if (node.k === 'binop') return ((v) => (v.length < 2 ? UNKNOWN : node.op === '-' ? v[0]! - v[1]! : node.op === '*' ? v[0]! * v[1]! : v[0]! / v[1]!))(nums([node.left, node.right]))
  if (node.k === 'call' && node.fn.k === 'name' && node.fn.id === 'len' && node.args.length === 1) return ((v) => (Array.isArray(v) ? v.length : UNKNOWN))(constValue(ctx, node.args[0]!))
  return UNKNOWN
}

/** `A if cond else B` settled by its condition (other nodes unchanged). */
export function settle(ctx: Ctx, node: Node): Node {
  if (node.k !== 'ifexp') return node
  return settle(ctx, conditionValue(ctx, node.cond, node.line) ? node.body : node.orelse)
}

const CMP = new Set(['==', '!=', '<', '>', '<=', '>='])

/**
 * A condition (`self.use_skip`, `not use_proj`, `self.proj is not None`, `depth > 1 and skip`) evaluated
 * from the constants; anything it cannot settle is refused, naming the line.
 */
export function conditionValue(ctx: Ctx, toks: Tok[], line: number): boolean {
  let i = 0
  const whole = () => (toks.length ? ctx.src.slice(toks[0]!.start, toks[toks.length - 1]!.end) : '')
  const refuse = (): never => {
    throw Object.assign(new Error('condition'), { refuse: true })
  }
  const peek = () => toks[i]
  const isWord = (w: string) => peek()?.type === 'name' && peek()!.value === w
  const operand = (): unknown => {
    const start = i
    let d = 0
    while (i < toks.length) {
      const t = toks[i]!
      if (t.type === 'op' && '([{'.includes(t.value)) d++
      else if (t.type === 'op' && ')]}'.includes(t.value)) d--
      else if (d === 0 && ((t.type === 'op' && CMP.has(t.value)) || (t.type === 'name' && /^(and|or|is|not|in)$/.test(t.value)))) break
      i++
    }
    if (i === start) refuse()
    const v = constValue(ctx, parseExpr(toks.slice(start, i), ctx, line))
    if (v === UNKNOWN) refuse()
    return v
  }
  const comparison = (): unknown => {
    if (isWord('not')) {
      i++
      return !truthy(comparison())
    }
    if (peek()?.value === '(' ) {
      // a parenthesised condition: find its close and evaluate inside
      let d = 0
      let k = i
      for (; k < toks.length; k++) {
        if (toks[k]!.value === '(') d++
        if (toks[k]!.value === ')' && --d === 0) break
      }
      if (k === toks.length - 1 || /^(and|or)$/.test(toks[k + 1]?.value ?? '')) {
        const inner = conditionValue(ctx, toks.slice(i + 1, k), line)
        i = k + 1
        return inner
      }
    }
    const left = operand()
    if (isWord('is')) {
      i++
      const neg = isWord('not')
      if (neg) i++
      const right = operand()
      return neg ? left !== right : left === right
    }
    const op = peek()
    if (op?.type === 'op' && CMP.has(op.value)) {
      i++
      const right = operand() as number
      const l = left as number
      return op.value === '==' ? l === right : op.value === '!=' ? l !== right : op.value === '<' ? l < right : op.value === '>' ? l > right : op.value === '<=' ? l <= right : l >= right
    }
    return left
  }
  const conj = (): boolean => {
    let v = truthy(comparison())
    while (isWord('and')) {
      i++
      v = truthy(comparison()) && v
    }
    return v
  }
  try {
    let v = conj()
    while (isWord('or')) {
      i++
      v = conj() || v
    }
    if (i !== toks.length) refuse()
    return v
  } catch (e) {
    if (!(e as { refuse?: boolean }).refuse) throw e
    unsupported(ctx, `if ${whole()}`, line, 'ml2sc settles conditions from constructor defaults and literals (self.flag = flag, flag=True); a condition on tensors or unknown values is not supported')
  }
}

const truthy = (v: unknown) => !(v === false || v === null || v === 0 || v === '' || (Array.isArray(v) && v.length === 0))

/**
 * `if c:` … `elif c:` … `else:` starting at stmts[i]: the body whose condition holds (or none), and the
 * index of the first statement after the chain.
 */
export function chooseBranch(ctx: Ctx, stmts: Stmt[], i: number): { body: Stmt[]; next: number } {
  let chosen: Stmt[] | undefined
  let k = i
  while (k < stmts.length) {
    const s = stmts[k]!
    const kw = s.tokens[0]!.value
    if ((k === i && kw !== 'if') || (k > i && kw !== 'elif' && kw !== 'else')) break
    if (!s.body) unsupported(ctx, text(ctx, { a: s.tokens[0]!.start, b: s.tokens[s.tokens.length - 1]!.end }), s.line)
    if (chosen === undefined) {
      if (kw === 'else') chosen = s.body
      else if (conditionValue(ctx, s.tokens.slice(1, -1), s.line)) chosen = s.body
    }
    k++
    if (kw === 'else') break
  }
  return { body: chosen ?? [], next: k }
}

/**
 * The constants of a constructor call: `def __init__(self, dim, use_skip=True)` bound to the call's
 * arguments (evaluated in the caller's constants), defaults for the rest. Parameters with neither are UNKNOWN.
 */
export function bindParams(ctx: Ctx, header: Stmt, call?: { args: Node[]; kwargs: Map<string, Node> }, caller?: Ctx): Consts {
  const t = header.tokens
  const open = t.findIndex((tk) => tk.value === '(')
  const params: { name: string; dflt?: Tok[] }[] = []
  let d = 0
  let cur: Tok[] = []
  const flush = () => {
    if (!cur.length) return
    const name = cur[0]!
    const eq = cur.findIndex((tk) => tk.type === 'op' && tk.value === '=')
    if (name.type === 'name') params.push({ name: name.value, ...(eq > 0 ? { dflt: cur.slice(eq + 1) } : {}) })
    cur = []
  }
  for (let k = open + 1; k < t.length; k++) {
    const tk = t[k]!
    if (tk.value === '(' || tk.value === '[') d++
    if (tk.value === ')' || tk.value === ']') {
      if (d === 0) break
      d--
    }
    if (d === 0 && tk.value === ',') flush()
    else cur.push(tk)
  }
  flush()
  const out: Consts = new Map()
  const named = params.filter((p) => p.name !== 'self')
  const from = caller ?? ctx
  named.forEach((p, k) => {
    const arg = call?.kwargs.get(p.name) ?? call?.args[k]
    if (arg) out.set(p.name, constValue(from, arg))
    else if (p.dflt) out.set(p.name, constValue({ ...ctx, consts: out }, parseExpr(p.dflt, ctx, header.line)))
    else out.set(p.name, UNKNOWN)
  })
  return out
}

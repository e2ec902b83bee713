/** A line of TorchScript forward() code could not be read as a plain chain of layers. */
export class ForwardUnreadable extends Error {}

/** The expressions of TorchScript code that forwardInterpreter.ts reads. */
export type Expr =
  | { t: 'name'; v: string }
  | { t: 'num'; v: number }
  | { t: 'str'; v: string }
  | { t: 'attr'; obj: Expr; name: string }
  | { t: 'call'; fn: Expr; args: Expr[]; kwargs: Map<string, Expr> }
  | { t: 'list'; items: Expr[] }
  | { t: 'tuple'; items: Expr[] } // (a, b): what a multi-output forward() returns
  | { t: 'subscript'; obj: Expr }

// expression parser for the subset above

export function parseExpr(src: string, line: string): Expr {
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
      if (peek() !== ',') {
        expect(')')
        return e
      }
      const items = [e]
      while (peek() === ',') {
        next()
        if (peek() !== ')') items.push(expr())
      }
      expect(')')
      return { t: 'tuple', items }
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

import type { Tok } from './tokenize.ts'

// ---------------------------------------------------------------------------------------------------
// Statements: a logical line's tokens, plus the indented block under it when it ends with ':'.

export type Stmt = { tokens: Tok[]; line: number; body?: Stmt[] }

export class Cursor {
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

export function parseBlock(c: Cursor, level: number): Stmt[] {
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

export type ClassDef = { name: string; bases: string[]; body: Stmt[]; line: number }

export function findClasses(stmts: Stmt[]): ClassDef[] {
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

/** Tokens split at the commas outside brackets (`a, b` → [a], [b]); a trailing comma adds nothing. */
export function splitTopLevel<T extends { value: string; type: string }>(toks: T[]): T[][] {
  const parts: T[][] = [[]]
  let d = 0
  for (const t of toks) {
    if (t.type === 'op' && /^[([{]$/.test(t.value)) d++
    else if (t.type === 'op' && /^[)\]}]$/.test(t.value)) d--
    if (d === 0 && t.type === 'op' && t.value === ',') parts.push([])
    else parts[parts.length - 1]!.push(t)
  }
  return parts.filter((p) => p.length)
}

/** forward()'s parameter names (self, then the input; type hints and defaults allowed); `refuse` on *args/**kwargs. */
export function forwardParams(fwd: Stmt, refuse: () => never): string[] {
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
      refuse()
    }
  }
  return params
}

import { ModelError } from '../../errors/base.ts'

// ---------------------------------------------------------------------------------------------------
// Tokenizer: a small subset of Python's, with INDENT/DEDENT/NEWLINE and implicit line joining.

export type TokType = 'name' | 'number' | 'string' | 'op' | 'newline' | 'indent' | 'dedent' | 'eof'
export type Tok = { type: TokType; value: string; line: number; start: number; end: number }

export function tokenize(src: string, where: string, file: string): Tok[] {
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

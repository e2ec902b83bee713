/**
 * TorchScript archives' code: `code/__torch__/<module path>.py` holds `class Name(Module):` blocks, with
 * `name : Final[T] = value` constants and a `forward()` (read by forwardInterpreter.ts).
 */

export type ClassCode = {
  finals: Map<string, string>
  forward?: { params: string[]; body: string[]; firstLine: string }
}

export function indexCode(code: Map<string, string>): Map<string, ClassCode> {
  const out = new Map<string, ClassCode>()
  for (const [path, text] of code) {
    // `__torch__/torch/nn/modules/linear/___torch_mangle_4.py` → `__torch__.torch.nn.modules.linear.___torch_mangle_4`
    const mod = path.replace(/\.py$/, '').split('/').join('.')
    const lines = text.split('\n')
    for (let i = 0; i < lines.length; i++) {
      const m = lines[i]!.match(/^class (\w+)\(/)
      if (!m) continue
      let j = i + 1
      while (j < lines.length && (lines[j] === '' || lines[j]!.startsWith(' '))) j++
      out.set(`${mod}.${m[1]}`, parseClass(lines.slice(i + 1, j)))
      i = j - 1
    }
  }
  return out
}

export function parseClass(body: string[]): ClassCode {
  const finals = new Map<string, string>()
  let forward: ClassCode['forward']
  for (let i = 0; i < body.length; i++) {
    const line = body[i]!
    const f = line.match(/^ {2}(\w+) : Final\[.+?\]\]* = (.+)$/) // Final[int], Final[Tuple[int, int]]
    if (f) finals.set(f[1]!, f[2]!.trim())
    if (/^ {2}def forward\(/.test(line)) {
      // the signature may span lines; it ends at the line ending in ':' once the parentheses balance
      let sig = line.trim()
      let j = i
      while (!(balanced(sig) && sig.endsWith(':')) && j + 1 < body.length) sig += ' ' + body[++j]!.trim()
      const open = sig.indexOf('(')
      const close = matchParen(sig, open)
      const params = splitTop(sig.slice(open + 1, close)).map((p) => p.split(':')[0]!.split('=')[0]!.trim()).filter(Boolean)
      const lines: string[] = []
      let k = j + 1
      while (k < body.length && !/^ {2}\S/.test(body[k]!)) lines.push(body[k++]!)
      forward = { params, body: lines.filter((l) => l.trim() !== ''), firstLine: line.trim() }
      i = k - 1
    }
  }
  return { finals, forward }
}

export function balanced(s: string): boolean {
  let d = 0
  for (const c of s) d += c === '(' ? 1 : c === ')' ? -1 : 0
  return d === 0
}

export function matchParen(s: string, open: number): number {
  let d = 0
  for (let i = open; i < s.length; i++) {
    if (s[i] === '(') d++
    else if (s[i] === ')' && --d === 0) return i
  }
  return s.length
}

export function splitTop(s: string): string[] {
  const out: string[] = []
  let d = 0
  let cur = ''
  for (const c of s) {
    if (c === '(' || c === '[') d++
    if (c === ')' || c === ']') d--
    if (c === ',' && d === 0) {
      out.push(cur)
      cur = ''
    } else cur += c
  }
  if (cur.trim()) out.push(cur)
  return out
}

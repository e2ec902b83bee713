import { ForwardUnreadable } from './scriptExpr.ts'
import { splitTop } from './torchscriptCode.ts'

/**
 * What `torch.jit.script` writes for a loop over an nn.ModuleList with a condition on the index
 * (`for i, layer in enumerate(self.layers): … if i < len(self.layers) - 1: x = F.relu(x)`): the loop
 * unrolled, each condition a constant (`_3 = torch.lt(0, torch.sub((layers0).__len__(), 1))`) and an
 * `if _3:` / `else:` block. The arithmetic on constants is done here, and the branch that holds replaces
 * the block; a condition on anything computed from the input is not read.
 */

const ARITH: Record<string, (a: number, b: number) => number | boolean> = {
  'torch.lt': (a, b) => a < b,
  'torch.le': (a, b) => a <= b,
  'torch.gt': (a, b) => a > b,
  'torch.ge': (a, b) => a >= b,
  'torch.eq': (a, b) => a === b,
  'torch.ne': (a, b) => a !== b,
  'torch.sub': (a, b) => a - b,
  'torch.add': (a, b) => a + b,
  'torch.mul': (a, b) => a * b,
  'torch.remainder': (a, b) => ((a % b) + b) % b,
  'torch.floordiv': (a, b) => Math.floor(a / b),
}

/**
 * torch.lt(0, 2), torch.sub(3, 1), …: the constant, or undefined when the call is not arithmetic on two numbers.
 * Arithmetic on a shape (`torch.sub(torch.size(x, 1), 12)`: `opaque`) is `opaque` too.
 */
export function constArith(name: string, args: unknown[], opaque?: symbol): number | boolean | symbol | undefined {
  const f = ARITH[name]
  if (name in ARITH && opaque && args.length === 2 && args.includes(opaque) && args.every((a) => a === opaque || typeof a === 'number')) return opaque
  if (!f || args.length !== 2 || args.some((a) => typeof a !== 'number')) return undefined
  return f(args[0] as number, args[1] as number)
}

const indentOf = (line: string) => line.length - line.trimStart().length

/**
 * The `if c:` block at lines[i] (with its `else:`): the lines of the branch `holds` chooses, dedented to the
 * `if`'s own level, and the index of the first line after the block.
 */
export function constantBranch(lines: string[], i: number, holds: boolean): { chosen: string[]; next: number } {
  const level = indentOf(lines[i]!)
  const body = (from: number) => {
    let k = from
    while (k < lines.length && (lines[k]!.trim() === '' || indentOf(lines[k]!) > level)) k++
    return { inner: lines.slice(from, k), end: k }
  }
  const then = body(i + 1)
  let orelse: string[] = []
  let next = then.end
  if (next < lines.length && indentOf(lines[next]!) === level && lines[next]!.trim() === 'else:') {
    const e = body(next + 1)
    orelse = e.inner
    next = e.end
  }
  const chosen = (holds ? then.inner : orelse).filter((l) => l.trim() !== '')
  const shift = chosen.length ? indentOf(chosen[0]!) - level : 0
  return { chosen: chosen.map((l) => l.slice(shift)), next }
}

/**
 * `for _0 in range(3):` at lines[i] (torch.jit.script keeps a Python loop as prim::Loop): when the trip count
 * is a constant, the block is replaced by its body once per iteration, dedented to the `for`'s own level,
 * each copy first setting the loop variable (`_0 = 1`); true then. False when lines[i] is not such a loop.
 * `constOf` evaluates an expression of the forward() to its constant (undefined when it is not one).
 */
export function unrollLoop(lines: string[], i: number, constOf: (src: string) => unknown): boolean {
  const line = lines[i]!.trim()
  const loop = /^for (\w+) in range\((.+)\):$/.exec(line)
  if (!loop) return false
  const bounds = splitTop(loop[2]!).map((b) => constOf(b.trim()))
  if (bounds.length > 2 || !bounds.every((b) => Number.isInteger(b))) throw new ForwardUnreadable(`a loop whose trip count is not a constant ("${line}")`)
  const [from, to] = (bounds.length === 2 ? bounds : [0, bounds[0]]) as [number, number]
  const level = indentOf(lines[i]!)
  let k = i + 1
  while (k < lines.length && (lines[k]!.trim() === '' || indentOf(lines[k]!) > level)) k++
  const body = lines.slice(i + 1, k).filter((l) => l.trim() !== '')
  const shift = body.length ? indentOf(body[0]!) - level : 0
  const unrolled: string[] = []
  for (let n = from; n < to; n++) unrolled.push(`${' '.repeat(level)}${loop[1]} = ${n}`, ...body.map((l) => l.slice(shift)))
  lines.splice(i, k - i, ...unrolled)
  return true
}

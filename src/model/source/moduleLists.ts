import { constValue, UNKNOWN } from './constants.ts'
import { dotted, parseExpr, text, unsupported, type Ctx, type Node } from './expressions.ts'
import type { ArchStep } from '../../ir/types.ts'
import type { Tok } from './tokenize.ts'
import { splitTopLevel } from './statements.ts'

/**
 * A submodule of __init__: the steps it stands for (names are state_dict prefixes); or (`buffer`) a tensor
 * registered with register_buffer, read in forward as `self.<name>`; or (`items`) an nn.ModuleList /
 * nn.ModuleDict (`dict`) of submodules.
 */
export type Mod = { steps: ArchStep[]; line: number; buffer?: true; name?: string; embedding?: true; items?: { key: string; mod: Mod }[]; dict?: true }

/**
 * nn.ModuleList / nn.ModuleDict and the `for` loops over them, unrolled: a container's elements are known
 * from the constructor (a list, a comprehension over range(n) or constant lists, `.append` in a loop over
 * constants) or, when its length is not, from the state_dict's keys (`blocks.0.…`, `blocks.1.…`). A loop
 * in forward() runs its body once per element with the loop names bound: a module, an index or a key.
 */
export type LoopVal = { mod: Mod } | number | string | LoopVal[]

export const LOOP_HINT =
  'ml2sc unrolls `for` loops over an nn.ModuleList / nn.ModuleDict (for blk in self.blocks, enumerate(...), zip(...), self.layers[:-1], .values(), .items()) or over range(n) with n known from the constructor; a while loop or a condition on tensors cannot be'

/** `self.blocks` when it names a ModuleList / ModuleDict. */
export function containerOf(n: Node, modules: Map<string, Mod>): Mod | undefined {
  return n.k === 'attr' && n.obj.k === 'name' && n.obj.id === 'self' && modules.get(n.attr)?.items ? modules.get(n.attr) : undefined
}

/** The submodule a call in forward() names: self.fc, a loop's blk, self.layers[-1], self.heads["a"]. */
export function moduleAt(ctx: Ctx, fn: Node, modules: Map<string, Mod>, loopMods: Map<string, Mod>): Mod | undefined {
  if (fn.k === 'attr' && fn.obj.k === 'name' && fn.obj.id === 'self') return modules.get(fn.attr)
  if (fn.k === 'name') return loopMods.get(fn.id)
  const c = fn.k === 'other' && fn.what === 'subscript' && fn.obj && fn.index ? containerOf(fn.obj, modules) : undefined
  const ix = c ? indexOf(ctx, (fn as { index: string }).index, fn.line) : undefined
  return typeof ix === 'number' || typeof ix === 'string' ? elementOf(ctx, c!, ix, fn) : undefined
}

/**
 * `for blk in self.blocks:` (a statement with its body) unrolled: `run` once per value, the loop's names bound
 * (a module in `loopMods`, an index or key in the constants, for `if i < len(self.layers) - 1:`). The value a
 * `return` inside gives, if any.
 */
export function unrollLoop<T>(ctx: Ctx, s: { tokens: Tok[]; line: number; body?: { tokens: Tok[] }[] }, modules: Map<string, Mod>, loopMods: Map<string, Mod>, run: (body: never) => T | undefined): T | undefined {
  const { target, iter } = loopHeader(ctx, s.tokens, s.line)
  const values = iterate(ctx, iter, (n) => containerOf(n, modules))
  if (!values) unsupported(ctx, text(ctx, { a: s.tokens[0]!.start, b: s.tokens[s.tokens.length - 1]!.end }), s.line, LOOP_HINT)
  for (const v of values) {
    bindTarget(ctx, target, v, (name, x) => (typeof x === 'object' ? loopMods.set(name, x.mod) : (loopMods.delete(name), ctx.consts?.set(name, x))))
    const r = run(s.body as never)
    if (r) return r
  }
  return undefined
}

/** A subscript's index: an int, a key, a slice [a:b] (ints or absent), or undefined. */
export function indexOf(ctx: Ctx, index: string, line: number): number | string | { from?: number; to?: number } | undefined {
  const s = index.replace(/^\[|\]$/g, '').trim()
  if (/^-?\d+$/.test(s)) return Number(s)
  const key = /^(['"])(\w+)\1$/.exec(s)
  if (key) return key[2]
  const sl = /^(-?\d*)\s*:\s*(-?\d*)$/.exec(s)
  if (sl) return { ...(sl[1] ? { from: Number(sl[1]) } : {}), ...(sl[2] ? { to: Number(sl[2]) } : {}) }
  if (/^\w+$/.test(s)) {
    const v = constValue(ctx, { k: 'name', id: s, a: 0, b: 0, line })
    if (typeof v === 'number' || typeof v === 'string') return v
  }
  return undefined
}

/** One element of a container by index or key (Python's negative indices too). */
export function elementOf(ctx: Ctx, c: Mod, index: number | string, at: Node): Mod {
  const items = c.items!
  const found = typeof index === 'number' ? items[index < 0 ? items.length + index : index] : items.find((it) => it.key === index)
  if (!found) unsupported(ctx, text(ctx, at), at.line, `${c.name ?? 'the container'} has ${items.length} element(s): ${items.map((it) => it.key).join(', ')}`)
  return found.mod
}

/** The values a `for` loop (or a comprehension) runs over, or undefined when they are not known. */
export function iterate(ctx: Ctx, node: Node, containerOf: (n: Node) => Mod | undefined): LoopVal[] | undefined {
  const c = containerOf(node)
  if (c?.items) return c.dict ? c.items.map((it) => it.key) : c.items.map((it) => ({ mod: it.mod }))
  if (node.k === 'other' && node.what === 'subscript' && node.obj && node.index) {
    const base = containerOf(node.obj)
    const ix = indexOf(ctx, node.index, node.line)
    if (base?.items && !base.dict && typeof ix === 'object') return base.items.slice(ix.from, ix.to).map((it) => ({ mod: it.mod }))
    const list = iterate(ctx, node.obj, containerOf)
    if (list && typeof ix === 'object') return list.slice(ix.from, ix.to)
    return undefined
  }
  if (node.k === 'call' && !node.star && node.kwargs.size === 0) {
    const fn = node.fn
    // self.blocks.values() / .items() / .keys()
    if (fn.k === 'attr' && node.args.length === 0) {
      const d = containerOf(fn.obj)
      if (d?.dict && fn.attr === 'values') return d.items!.map((it) => ({ mod: it.mod }))
      if (d?.dict && fn.attr === 'items') return d.items!.map((it) => [it.key, { mod: it.mod }])
      if (d?.dict && fn.attr === 'keys') return d.items!.map((it) => it.key)
      return undefined
    }
    const name = dotted(fn)
    const lists = () => node.args.map((a) => iterate(ctx, a, containerOf))
    if (name === 'enumerate' && node.args.length >= 1) {
      const [list] = lists()
      const start = node.args[1] ? constValue(ctx, node.args[1]) : 0
      return list && typeof start === 'number' ? list.map((v, i) => [i + start, v]) : undefined
    }
    if (name === 'zip' && node.args.length >= 1) {
      const ls = lists()
      if (ls.some((l) => !l)) return undefined
      const n = Math.min(...ls.map((l) => l!.length))
      return Array.from({ length: n }, (_, i) => ls.map((l) => l![i]!))
    }
    if (name === 'reversed' && node.args.length === 1) return lists()[0]?.slice().reverse()
    if (name === 'range' && node.args.length >= 1 && node.args.length <= 3) {
      const a = node.args.map((x) => constValue(ctx, x))
      if (a.some((x) => typeof x !== 'number')) return undefined
      const [from, to, step] = a.length === 1 ? [0, a[0] as number, 1] : [a[0] as number, a[1] as number, (a[2] as number | undefined) ?? 1]
      if (step === 0 || Math.abs((to - from) / step) > 4096) return undefined
      const out: number[] = []
      for (let i = from; step > 0 ? i < to : i > to; i += step) out.push(i)
      return out
    }
    return undefined
  }
  const v = constValue(ctx, node)
  return Array.isArray(v) && !v.includes(UNKNOWN) ? (v as LoopVal[]) : undefined
}

/** Bind a loop target (`blk`, `i, layer`, `i, (a, b)`) to one value: names to modules, or to constants. */
export function bindTarget(ctx: Ctx, target: Node, v: LoopVal, set: (name: string, v: { mod: Mod } | number | string) => void): void {
  if (target.k === 'name') {
    if (Array.isArray(v)) unsupported(ctx, text(ctx, target), target.line, LOOP_HINT)
    return set(target.id, v)
  }
  if ((target.k === 'tuple' || target.k === 'list') && Array.isArray(v) && v.length === target.items.length) return target.items.forEach((t, i) => bindTarget(ctx, t, v[i]!, set))
  unsupported(ctx, text(ctx, target), target.line, LOOP_HINT)
}

/** `for TARGET in ITER:` (a statement's tokens): the target and the iterable, parsed. */
export function loopHeader(ctx: Ctx, toks: Tok[], line: number): { target: Node; iter: Node } {
  let d = 0
  const at = toks.findIndex((t) => {
    if (t.type === 'op' && '([{'.includes(t.value)) d++
    if (t.type === 'op' && ')]}'.includes(t.value)) d--
    return d === 0 && t.type === 'name' && t.value === 'in'
  })
  const end = toks[toks.length - 1]?.value === ':' ? toks.length - 1 : toks.length
  if (toks[0]?.value !== 'for' || at < 2 || at + 1 >= end) unsupported(ctx, text(ctx, { a: toks[0]!.start, b: toks[toks.length - 1]!.end }), line, LOOP_HINT)
  // `i, layer` (a bare tuple): each name parsed on its own
  const parts = splitTopLevel(toks.slice(1, at)).map((p) => parseExpr(p, ctx, line))
  const target: Node = parts.length === 1 ? parts[0]! : { k: 'tuple', items: parts, a: toks[1]!.start, b: toks[at - 1]!.end, line }
  return { target, iter: parseExpr(toks.slice(at + 1, end), ctx, line) }
}

/**
 * The elements of `nn.ModuleList([...])` / `nn.ModuleDict({...})` (or a list of (key, module) pairs), each
 * built by `build(node, key)`; a comprehension `[Block(h) for _ in range(n)]` runs once per value, with its
 * names bound in the constants. `toks`: the statement's tokens (a comprehension's are read from them).
 */
export function containerItems(ctx: Ctx, call: Extract<Node, { k: 'call' }>, dict: boolean, toks: Tok[], build: (n: Node, key: string) => Mod, countFromKeys: () => number | undefined): { key: string; mod: Mod }[] {
  const arg = call.args[0] ?? call.kwargs.get('modules')
  if (!arg) return []
  if (call.args.length > 1 || call.star) unsupported(ctx, text(ctx, call), call.line)
  if (!dict && (arg.k === 'list' || arg.k === 'tuple')) return arg.items.map((n, i) => ({ key: String(i), mod: build(n, String(i)) }))
  if (dict && (arg.k === 'list' || arg.k === 'tuple'))
    return arg.items.map((it) => {
      if (it.k !== 'tuple' || it.items.length !== 2 || it.items[0]!.k !== 'str') unsupported(ctx, text(ctx, it), it.line)
      const key = (it.items[0] as { v: string }).v
      return { key, mod: build(it.items[1]!, key) }
    })
  const inner = toks.filter((t) => t.start > arg.a && t.end < arg.b)
  if (dict && arg.k === 'other' && arg.what === 'dict') {
    // {"a": nn.Linear(...), "b": ...}
    const parts: Tok[][] = [[]]
    let d = 0
    for (const t of inner) {
      if (t.type === 'op' && '([{'.includes(t.value)) d++
      if (t.type === 'op' && ')]}'.includes(t.value)) d--
      if (d === 0 && t.value === ',') parts.push([])
      else parts[parts.length - 1]!.push(t)
    }
    return parts.filter((p) => p.length).map((p) => {
      const colon = p.findIndex((t) => t.value === ':')
      const key = colon === 1 ? parseExpr(p.slice(0, 1), ctx, call.line) : undefined
      if (key?.k !== 'str') unsupported(ctx, text(ctx, arg), arg.line, 'a ModuleDict literal with string keys: {"a": nn.Linear(...)}')
      return { key: key.v, mod: build(parseExpr(p.slice(2), ctx, call.line), key.v) }
    })
  }
  if (!dict && arg.k === 'other' && arg.what === 'comprehension') {
    const forAt = inner.findIndex((t) => t.type === 'name' && t.value === 'for')
    const { target, iter } = loopHeader(ctx, inner.slice(forAt), call.line)
    const elem = parseExpr(inner.slice(0, forAt), ctx, call.line)
    // range(depth) with depth unknown: the state_dict says how many
    const n = iterate(ctx, iter, () => undefined) ?? (target.k === 'name' ? Array.from({ length: countFromKeys() ?? -1 }, () => UNKNOWN as unknown as LoopVal) : undefined)
    if (!n || n.length === 0) unsupported(ctx, text(ctx, arg), arg.line, `${LOOP_HINT}; the comprehension's length is not known`)
    const consts = ctx.consts!
    return n.map((v, i) => {
      const saved = new Map(consts)
      bindTarget(ctx, target, v, (name, x) => consts.set(name, x))
      const mod = build(elem, String(i))
      consts.clear()
      for (const [k, x] of saved) consts.set(k, x)
      return { key: String(i), mod }
    })
  }
  unsupported(ctx, text(ctx, call), call.line, `nn.${dict ? 'ModuleDict' : 'ModuleList'} of a literal ${dict ? 'dict' : 'list'} or a comprehension over constants`)
}

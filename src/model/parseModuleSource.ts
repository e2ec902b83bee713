import { basename } from 'node:path'
import { ModelError } from '../errors/base.ts'
import type { ArchStep } from '../ir/types.ts'
import type { Ctx, Node } from './source/expressions.ts'
import { bindParams } from './source/constants.ts'
import { readInit, type Mod } from './source/initModules.ts'
import { readForward } from './source/readForward.ts'
import { Cursor, findClasses, parseBlock, type ClassDef } from './source/statements.ts'
import { tokenize } from './source/tokenize.ts'

/**
 * Read the architecture of an ML2SC-style PyTorch `nn.Module` from its Python source, without running
 * Python: the submodules `__init__` assigns to `self`, and the order `forward` applies them in.
 * Only a small, MLP-shaped subset of Python is understood; anything else is reported with its line.
 */
export function parseModuleSource(sourceText: string, className: string | undefined, file: string, keys?: string[]): ArchStep[] {
  // messages name `models.py:12`; `where` carries the full path
  const short = basename(file)
  const tokens = tokenize(sourceText, file, short)
  const stmts = parseBlock(new Cursor(tokens, file), 0)
  // the state_dict's keys (when known) say how long a ModuleList built by a comprehension is
  const ctx: Ctx = { file: short, where: file, src: sourceText, ...(keys ? { keys } : {}) }

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
    const all = classes.filter(isModule)
    // a block that another class of the file builds (`Block(16)`) is not the model
    const mods = all.length > 1 ? all.filter((c) => !all.some((o) => o !== c && new RegExp(`\\b${c.name}\\s*\\(`).test(sourceText.slice(o.body[0]?.tokens[0]?.start ?? 0, endOf(o))))) : all
    if (mods.length !== 1)
      throw new ModelError(mods.length ? `${short} defines ${mods.length} nn.Module classes; which one is the model?` : `${short} defines no nn.Module class`, {
        where: file,
        hint: mods.length ? `set model.class to one of: ${mods.map((c) => c.name).join(', ')}` : 'model.source must be the .py file with the model\'s `class X(nn.Module)`',
      })
    cls = mods[0]!
  }
  // the model's constructor runs with its defaults: ml2sc has no way to pass it arguments
  return readClass(cls, { ...ctx, instantiate: instantiator(classes, isModule) }, undefined)
}

/** The source offset just after a class's last statement. */
function endOf(c: ClassDef): number {
  let last = c.body[c.body.length - 1]
  while (last?.body?.length) last = last.body[last.body.length - 1]
  return last?.tokens[last.tokens.length - 1]?.end ?? 0
}

/** A class's steps: __init__ bound to `call`'s arguments (else its defaults), then forward. */
function readClass(cls: ClassDef, ctx: Ctx, call: { args: Node[]; kwargs: Map<string, Node> } | undefined, caller?: Ctx): ArchStep[] {
  const method = (name: string) => cls.body.find((s) => s.tokens[0]?.value === 'def' && s.tokens[1]?.value === name)
  const init = method('__init__')
  const forward = method('forward')
  if (!forward)
    throw new ModelError(`class '${cls.name}' has no forward() method at ${ctx.file}:${cls.line}`, {
      where: ctx.where,
      hint: 'ml2sc reads forward() from the class itself; inherited forward() methods are not followed',
    })
  const inner: Ctx = { ...ctx, consts: init ? bindParams(ctx, init, call, caller) : new Map() }
  const modules = init ? readInit(init, inner) : new Map<string, Mod>()
  return readForward(forward, modules, inner)
}

/**
 * Inlines a user-defined nn.Module of the same file where __init__ builds it (`self.b1 = Block(16)`,
 * `nn.Sequential(Block(16), Block(16))`): its own submodules under `prefix.` (as PyTorch names them in
 * the state_dict), its forward's steps in place of the call.
 */
function instantiator(classes: ClassDef[], isModule: (c: ClassDef) => boolean): NonNullable<Ctx['instantiate']> {
  const go = (caller: Ctx, call: Extract<Node, { k: 'call' }>, prefix: string, depth: number): ArchStep[] | undefined => {
    const name = call.fn.k === 'name' ? call.fn.id : undefined
    const cls = name ? classes.find((c) => c.name === name && isModule(c)) : undefined
    if (!cls) return undefined
    if (depth > 8) throw new ModelError(`class '${cls.name}' builds itself (at ${caller.file}:${call.line})`, { where: caller.where })
    if (call.star) throw new ModelError(`'${cls.name}(*…)' at ${caller.file}:${call.line}: star arguments are not supported`, { where: caller.where })
    const ctx: Ctx = { file: caller.file, where: caller.where, src: caller.src, prefix, ...(caller.keys ? { keys: caller.keys } : {}), instantiate: (c, n, p) => go(c, n, p, depth + 1) }
    return readClass(cls, ctx, call, caller)
  }
  return (caller, call, prefix) => go(caller, call, prefix, 0)
}

import { basename } from 'node:path'
import { ModelError } from '../errors/base.ts'
import type { ArchStep } from '../ir/types.ts'
import type { Ctx } from './source/expressions.ts'
import { readInit, type Mod } from './source/initModules.ts'
import { readForward } from './source/readForward.ts'
import { Cursor, findClasses, parseBlock, type ClassDef } from './source/statements.ts'
import { tokenize } from './source/tokenize.ts'

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

import type { Activation, ArchStep } from '../../ir/types.ts'
import { ACTIVATION_CLASSES, activationModuleSteps } from './activationCalls.ts'
import { convModuleSteps, isConvModule } from './convModules.ts'
import { RECURRENT_CLASSES, recurrentModuleSteps } from './recurrentModules.ts'
import { dotted, parseExpr, qualified, text, unsupported, type Ctx, type Node } from './expressions.ts'
import { chooseBranch, constValue, settle, UNKNOWN } from './constants.ts'
import { NORM_CLASSES, normModuleSteps } from './normModules.ts'
import { ATTENTION_CLASSES, attentionModuleSteps } from './attentionModules.ts'
import type { Stmt } from './statements.ts'
import { bindTarget, containerItems, containerOf, iterate, LOOP_HINT, loopHeader, type Mod } from './moduleLists.ts'

// ---------------------------------------------------------------------------------------------------
// __init__: the submodules.

export type { Mod } from './moduleLists.ts'

export const MODULE_CLASSES = [
  'Linear', 'ReLU', 'LeakyReLU', 'Sigmoid', 'Tanh', 'Softmax', 'Dropout', 'Dropout1d', 'Dropout2d', 'Dropout3d', 'AlphaDropout', 'Identity', 'Flatten', 'BatchNorm1d', 'Sequential',
  'Conv1d', 'Conv2d', 'MaxPool1d', 'MaxPool2d', 'AvgPool1d', 'AvgPool2d', 'AdaptiveAvgPool1d', 'AdaptiveAvgPool2d', 'AdaptiveMaxPool1d', 'AdaptiveMaxPool2d', 'BatchNorm2d', 'Embedding',
  ...ACTIVATION_CLASSES,
  ...RECURRENT_CLASSES,
  ...NORM_CLASSES,
  ...ATTENTION_CLASSES,
]

export function moduleClass(name: string | undefined): string | undefined {
  if (!name) return undefined
  const m = /^(?:torch\.)?(?:nn\.)?(?:modules\.)?([A-Za-z_]\w*)$/.exec(name)
  return m ? m[1] : undefined
}

export function numArg(ctx: Ctx, node: Node | undefined, what: string): number | undefined {
  if (node === undefined) return undefined
  if (node.k === 'num') return node.v
  if (node.k === 'name' && (node.id === 'True' || node.id === 'False')) return undefined
  const c = constValue(ctx, node)
  if (typeof c === 'number') return c
  unsupported(ctx, `${what} = ${text(ctx, node)}`, node.line)
}

/** Steps for a module constructor expression (`nn.Linear(4, 2)`, `nn.Sequential(...)`), named `prefix`. */
export function moduleSteps(ctx: Ctx, node0: Node, prefix: string, imports: Imports): ArchStep[] | undefined {
  const node = settle(ctx, node0)
  if (node.k !== 'call') return undefined
  // a user-defined block of this file (`Block(16)`), inlined under `prefix.`
  const block = ctx.instantiate?.(ctx, node, prefix)
  if (block) return block
  const full = dotted(node.fn)
  const cls = full && (full.startsWith('nn.') || full.startsWith('torch.nn.') || imports.nnNames.has(full)) ? moduleClass(full) : undefined
  if (!cls) return undefined
  if (isConvModule(cls)) return convModuleSteps(ctx, cls, node, prefix)
  if (RECURRENT_CLASSES.includes(cls)) return recurrentModuleSteps(ctx, cls, node, prefix)
  if (ATTENTION_CLASSES.includes(cls)) return attentionModuleSteps(ctx, cls, node, prefix)
  const act = activationModuleSteps(ctx, cls, node, prefix) ?? normModuleSteps(ctx, cls, node, prefix)
  if (act) return act
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
    case 'Flatten':
      return [{ op: 'flatten', name: prefix }]
    case 'Dropout':
    case 'Dropout1d':
    case 'Dropout2d':
    case 'Dropout3d':
    case 'AlphaDropout':
    case 'Identity':
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

export type Imports = { nnNames: Set<string> }

export const FUNCTIONAL_ACTS: Record<string, Activation['kind'] | 'leaky_relu' | 'skip' | 'flatten'> = {
  relu: 'relu',
  leaky_relu: 'leaky_relu',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
  softmax: 'softmax',
  dropout: 'skip',
  dropout1d: 'skip',
  dropout2d: 'skip',
  alpha_dropout: 'skip',
  flatten: 'flatten',
}

/** `F.relu`, `torch.relu`, `nn.functional.relu`, `torch.nn.functional.relu` → `relu`. */
export function functionalName(full: string | undefined): string | undefined {
  if (!full) return undefined
  const m = /^(?:F|functional|nn\.functional|torch\.nn\.functional|torch)\.([a-z_0-9]+)$/.exec(full)
  if (!m) return undefined
  const name = m[1]!
  if (full.startsWith('torch.') && !full.includes('functional') && name === 'leaky_relu') return undefined
  return name in FUNCTIONAL_ACTS ? name : undefined
}

export function readInit(init: Stmt, ctx: Ctx): Map<string, Mod> {
  const modules = new Map<string, Mod>()
  const imports: Imports = { nnNames: new Set(MODULE_CLASSES) }
  const consts = ctx.consts ?? new Map<string, unknown>()
  ctx = { ...ctx, consts }
  readStatements(init.body ?? [], ctx, modules, imports)
  return modules
}

function readStatements(stmts: Stmt[], ctx: Ctx, modules: Map<string, Mod>, imports: Imports): void {
  const consts = ctx.consts!
  for (let si = 0; si < stmts.length; si++) {
    const s = stmts[si]!
    const t = s.tokens
    const first = t[0]!
    // `if use_proj:` … `else:` on constructor flags: only the branch that holds is read
    if (first.value === 'if' && s.body) {
      const { body, next } = chooseBranch(ctx, stmts, si)
      readStatements(body, ctx, modules, imports)
      si = next - 1
      continue
    }
    // for _ in range(n): self.layers.append(nn.Linear(h, h)): run once per value (moduleLists.ts)
    if (first.value === 'for' && s.body) {
      const { target, iter } = loopHeader(ctx, t, s.line)
      const values = iterate(ctx, iter, (n) => containerOf(n, modules))
      if (!values) unsupported(ctx, headerText(ctx, s), s.line, LOOP_HINT)
      for (const v of values) {
        bindTarget(ctx, target, v, (name, x) => consts.set(name, typeof x === 'object' ? UNKNOWN : x))
        readStatements(s.body, ctx, modules, imports)
      }
      continue
    }
    if (s.body || /^(for|while|if|elif|else|with|try|def|class)$/.test(first.value)) unsupported(ctx, headerText(ctx, s), s.line, first.value === 'while' ? LOOP_HINT : undefined)
    // self.layers.append(nn.Linear(h, h)): one more element of an nn.ModuleList
    const append = /^self\s*\.\s*(\w+)\s*\.\s*append\s*\(/.exec(headerText(ctx, s))
    if (append && modules.get(append[1]!)?.items && !modules.get(append[1]!)!.dict) {
      const call = parseExpr(t, ctx, s.line)
      const list = modules.get(append[1]!)!
      const key = String(list.items!.length)
      if (call.k !== 'call' || call.args.length !== 1) unsupported(ctx, headerText(ctx, s), s.line)
      list.items!.push({ key, mod: element(ctx, call.args[0]!, `${qualified(ctx, append[1]!)}.${key}`, imports, s.line) })
      consts.set(`self.${append[1]}`, list.items!.map(() => UNKNOWN))
      continue
    }
    if (first.type === 'string' || (first.type === 'name' && /^(pass|return)$/.test(first.value) && t.length === 1)) continue
    if (t.length === 1 && first.value === '...') continue
    if (/^(super\s*\([^)]*\)|(torch\.)?nn\.Module)\s*\.\s*__init__\s*\(/.test(headerText(ctx, s))) continue
    // self.register_buffer('mean', torch.tensor(...)): its values come from the state_dict
    const buffer = /^self\s*\.\s*register_buffer\s*\(\s*(['"])([A-Za-z_][A-Za-z_0-9]*)\1/.exec(headerText(ctx, s))
    if (buffer) {
      modules.set(buffer[2]!, { steps: [], line: s.line, buffer: true, name: qualified(ctx, buffer[2]!) })
      continue
    }
    // self.x = <expr>   or   self.x: T = <expr>
    const eq = t.findIndex((tk) => tk.type === 'op' && tk.value === '=')
    if (first.value === 'self' && t[1]?.value === '.' && t[2]?.type === 'name' && eq > 2) {
      const attr = t[2].value
      if (eq !== 3 && t[3]?.value !== ':') unsupported(ctx, headerText(ctx, s), s.line)
      const rhsToks = t.slice(eq + 1)
      if (!rhsToks.length) unsupported(ctx, headerText(ctx, s), s.line)
      const rhs = settle(ctx, parseExpr(rhsToks, ctx, s.line))
      // nn.Embedding(num, dim): a table that forward() indexes with a column of the input (inputColumns.ts)
      if (rhs.k === 'call' && moduleClass(dotted(rhs.fn)) === 'Embedding' && /^(torch\.)?(nn\.)?Embedding$/.test(dotted(rhs.fn) ?? '')) {
        // max_norm renormalises the looked-up rows at inference too: not the plain table the fold reads
        const changesRows = [...rhs.kwargs.keys()].find((k) => !/^(num_embeddings|embedding_dim|padding_idx|sparse|scale_grad_by_freq|norm_type|_weight|_freeze|device|dtype)$/.test(k))
        if (changesRows || rhs.args.length > 3)
          unsupported(ctx, headerText(ctx, s), s.line, `nn.Embedding(${changesRows ?? 'max_norm'}=…) changes the looked-up rows at inference; ml2sc folds the plain table (padding_idx, sparse and scale_grad_by_freq are fine)`)
        modules.set(attr, { steps: [], line: s.line, embedding: true, name: qualified(ctx, attr) })
        continue
      }
      // nn.ModuleList([...]) / nn.ModuleDict({...}): containers forward() iterates (moduleLists.ts)
      const container = rhs.k === 'call' ? moduleClass(dotted(rhs.fn)) : undefined
      if (rhs.k === 'call' && (container === 'ModuleList' || container === 'ModuleDict') && /^(torch\.)?(nn\.)?Module(List|Dict)$/.test(dotted(rhs.fn) ?? '')) {
        const prefix = qualified(ctx, attr)
        const keys = ctx.keys?.map((k) => new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)\\.`).exec(k)?.[1]).filter((k) => k !== undefined).map(Number)
        const items = containerItems(ctx, rhs, container === 'ModuleDict', t, (n, key) => element(ctx, n, `${prefix}.${key}`, imports, s.line), () => (keys?.length ? Math.max(...keys) + 1 : undefined))
        modules.set(attr, { steps: [], line: s.line, name: prefix, items, ...(container === 'ModuleDict' ? { dict: true as const } : {}) })
        consts.set(`self.${attr}`, items.map(() => UNKNOWN))
        continue
      }
      // self.gamma = nn.Parameter(torch.ones(n)): a tensor of the state_dict (F.layer_norm's weight)
      if (rhs.k === 'call' && /^(torch\.)?(nn\.)?Parameter$/.test(dotted(rhs.fn) ?? '')) {
        modules.set(attr, { steps: [], line: s.line, buffer: true })
        continue
      }
      const steps = moduleSteps(ctx, rhs, qualified(ctx, attr), imports)
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
      consts.set(`self.${attr}`, constValue(ctx, rhs))
      continue
    }
    // a local variable (hidden = 4): fine unless it builds modules
    if (first.type === 'name' && eq > 0 && t.slice(0, eq).every((tk) => tk.type === 'name' || tk.value === ',' || tk.value === ':' || tk.value === '.')) {
      const rhs = parseExpr(t.slice(eq + 1), ctx, s.line)
      if (mentionsTorch(rhs, ctx)) unsupported(ctx, text(ctx, rhs), rhs.line)
      const names = t.slice(0, eq).filter((tk) => tk.type === 'name')
      if (names.length === 1 && eq === 1) consts.set(names[0]!.value, constValue(ctx, rhs))
      else for (const n of names) consts.set(n.value, UNKNOWN)
      continue
    }
    unsupported(ctx, headerText(ctx, s), s.line)
  }
}

/** One element of a ModuleList / ModuleDict: a module constructor, named `prefix` (`blocks.0`). */
function element(ctx: Ctx, n: Node, prefix: string, imports: Imports, line: number): Mod {
  const steps = moduleSteps(ctx, n, prefix, imports)
  if (!steps) unsupported(ctx, text(ctx, n), n.line)
  return { steps, line, name: prefix }
}

export function mentionsTorch(node: Node, ctx: Ctx): boolean {
  return /\b(nn|torch|F)\s*\./.test(ctx.src.slice(node.a, node.b))
}

export function headerText(ctx: Ctx, s: Stmt): string {
  const t = s.tokens
  return text(ctx, { a: t[0]!.start, b: t[t.length - 1]!.end })
}

export function functionalStep(fn: string, slope: number | undefined): ArchStep {
  const kind = FUNCTIONAL_ACTS[fn]!
  if (kind === 'skip') return { op: 'skip', name: fn }
  if (kind === 'flatten') return { op: 'flatten', name: fn }
  if (kind === 'leaky_relu') return { op: 'activation', activation: { kind: 'leaky_relu', slope: slope ?? 0.01 } }
  return { op: 'activation', activation: { kind } as Activation }
}

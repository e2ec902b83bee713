import { readFile } from 'node:fs/promises'
import { ModelError } from '../errors/base.ts'
import type { Activation, ArchStep, TensorMap } from '../ir/types.ts'
import { readTorchFile, type TorchArchive } from './readTorchZip.ts'
import { finalValue, TENSOR_MODULES, tensorModuleSteps } from './ptTensorModules.ts'
import type { LoadedFile } from './types.ts'
import { describe, PyDict, PyObject, TensorRef } from './unpickle.ts'

/**
 * Read a `.pt` / `.pth` file: a state_dict (`torch.save(model.state_dict())`, also inside a training
 * checkpoint), a whole model (`torch.save(model)`) or a TorchScript archive (`torch.jit.trace/script(...)
 * .save`). ZIP archives (torch >= 1.6) and the legacy pickle stream are both read. The pickle is read by
 * a restricted unpickler that never runs code.
 *
 * - state_dict → `{ format: 'state_dict-pt', tensors }`
 * - whole model → `{ format: 'whole-model-pt', tensors, steps }` for nn.Sequential trees; a custom
 *   nn.Module gives its submodules but not the order forward() uses them → `orderUnknown`
 * - TorchScript → `{ format: 'torchscript', tensors, steps }`, the order of a custom module's forward()
 *   read from the archive's `code/` when it is a plain chain of calls, else `orderUnknown`
 */
export async function readPt(file: string): Promise<LoadedFile> {
  let bytes: Uint8Array
  try {
    bytes = new Uint8Array(await readFile(file))
  } catch (cause) {
    throw new ModelError(`cannot read the model file: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { where: file, cause })
  }
  return readPtBytes(bytes, file)
}

/** The same as readPt, from bytes already in memory. */
export function readPtBytes(bytes: Uint8Array, file: string): LoadedFile {
  const archive = readTorchFile(bytes, file)
  const root = archive.root
  if (archive.torchscript || isScriptModule(root)) {
    if (!isScriptModule(root))
      throw new ModelError(`the TorchScript archive's data.pkl holds ${describe(root)}, not a module`, { where: file })
    return fromModule(archive, root, 'torchscript')
  }
  if (isPyModule(root)) return fromModule(archive, root, 'whole-model-pt')
  const found = findStateDict(root)
  if (found?.module) return fromModule(archive, found.module, 'whole-model-pt', found.key)
  if (found?.dict) return { format: 'state_dict-pt', tensors: tensorsOfDict(archive, found.dict) }
  throw new ModelError(`the file holds ${describe(root)}, not a state_dict, an nn.Module or a TorchScript module`, {
    where: file,
    hint: 'save the weights with torch.save(model.state_dict(), path), or the model with torch.save(model) / torch.jit.save',
  })
}

// ---------------------------------------------------------------------------------------------------
// state_dicts

const CHECKPOINT_KEYS = ['state_dict', 'model_state_dict', 'model_state', 'model', 'net', 'network', 'module', 'weights', 'params']

function hasTensors(d: PyDict): boolean {
  for (const [k, v] of d.map) if (typeof k === 'string' && v instanceof TensorRef) return true
  return false
}

function findStateDict(root: unknown): { dict?: PyDict; module?: PyObject; key?: string } | undefined {
  if (!(root instanceof PyDict)) return undefined
  if (hasTensors(root)) return { dict: root }
  for (const key of CHECKPOINT_KEYS) {
    const v = root.get(key)
    if (v instanceof PyDict && hasTensors(v)) return { dict: v, key }
    if (isPyModule(v)) return { module: v, key }
  }
  return undefined
}

function tensorsOfDict(archive: TorchArchive, dict: PyDict): TensorMap {
  const entries = [...dict.map].filter((e): e is [string, TensorRef] => typeof e[0] === 'string' && e[1] instanceof TensorRef)
  // nn.DataParallel state_dicts prefix every key with `module.`
  const strip = entries.length > 0 && entries.every(([k]) => k.startsWith('module.'))
  const tensors: TensorMap = new Map()
  for (const [k, ref] of entries) {
    const name = strip ? k.slice('module.'.length) : k
    tensors.set(name, archive.tensor(ref, k))
  }
  return tensors
}

// ---------------------------------------------------------------------------------------------------
// module trees (torch.save(model) and TorchScript)

type Node = {
  /** state_dict prefix: '' for the root, then `fc1`, `0`, `net.0` … */
  path: string
  /** the class as pickled, e.g. `torch.nn.modules.linear.Linear` or `__torch__.torch.nn.modules.linear.___torch_mangle_4.Linear` */
  rawClass: string
  /** mangling removed: `torch.nn.modules.linear.Linear`, `BCNet`, `__main__.BCNet` */
  cls: string
  short: string
  attrs: PyDict
  children: Node[]
  tensors: [string, TensorRef][]
  script: boolean
  obj: PyObject
}

function isPyModule(v: unknown): v is PyObject {
  return v instanceof PyObject && v.state instanceof PyDict && v.state.map.has('_modules')
}

function isScriptModule(v: unknown): v is PyObject {
  return v instanceof PyObject && v.cls.startsWith('__torch__.')
}

function cleanClass(raw: string): string {
  return raw
    .replace(/^__torch__\./, '')
    .split('.')
    .filter((p) => !/^___torch_mangle_\d+$/.test(p))
    .join('.')
}

function toNode(obj: PyObject, path: string, script: boolean, file: string, seen = new Set<PyObject>()): Node {
  if (seen.has(obj) || seen.size > 200)
    throw new ModelError(`the module tree is cyclic or nested more than 200 deep (at '${path}')`, { where: file, hint: 'the file is corrupt or was crafted' })
  seen = new Set(seen).add(obj)
  const cls = cleanClass(obj.cls)
  const short = cls.split('.').pop()!
  const attrs = obj.state instanceof PyDict ? obj.state : new PyDict()
  const children: Node[] = []
  const tensors: [string, TensorRef][] = []
  const join = (n: string) => (path ? `${path}.${n}` : n)
  if (script) {
    for (const [k, v] of attrs.map) {
      if (typeof k !== 'string') continue
      if (v instanceof TensorRef) tensors.push([k, v])
      else if (isScriptModule(v)) children.push(toNode(v, join(k), true, file, seen))
    }
  } else {
    const params = attrs.get('_parameters')
    const buffers = attrs.get('_buffers')
    const skip = attrs.get('_non_persistent_buffers_set')
    const nonPersistent = skip instanceof Set ? skip : new Set()
    for (const [d, persist] of [[params, false], [buffers, true]] as const)
      if (d instanceof PyDict)
        for (const [k, v] of d.map)
          if (typeof k === 'string' && v instanceof TensorRef && !(persist && nonPersistent.has(k))) tensors.push([k, v])
    const mods = attrs.get('_modules')
    if (mods instanceof PyDict)
      for (const [k, v] of mods.map) {
        if (typeof k !== 'string' || v === null) continue
        if (!isPyModule(v)) throw new ModelError(`submodule '${join(k)}' is ${describe(v)}, not an nn.Module`, { where: file })
        children.push(toNode(v, join(k), false, file, seen))
      }
  }
  return { path, rawClass: obj.cls, cls, short, attrs, children, tensors, script, obj }
}

function collectTensors(archive: TorchArchive, node: Node, out: TensorMap) {
  for (const [k, ref] of node.tensors) {
    const name = node.path ? `${node.path}.${k}` : k
    out.set(name, archive.tensor(ref, name))
  }
  for (const c of node.children) collectTensors(archive, c, out)
}

const DROPOUTS = ['Dropout1d', 'Dropout2d', 'Dropout3d', 'AlphaDropout', 'FeatureAlphaDropout']
const LEAVES = new Set(['Linear', 'ReLU', 'LeakyReLU', 'Sigmoid', 'Tanh', 'Softmax', 'Identity', 'Flatten', 'Dropout', ...DROPOUTS, 'BatchNorm1d', ...TENSOR_MODULES])
const SUPPORTED_TEXT =
  'ml2sc handles Linear, ReLU, LeakyReLU, Sigmoid, Tanh, Softmax (last layer), BatchNorm1d/2d, Dropout, ' +
  'Identity, Flatten, Conv1d/2d, MaxPool1d/2d, AvgPool1d/2d and AdaptiveAvgPool1d/2d(1), in an nn.Sequential or a custom nn.Module'

function isTorchNn(cls: string) {
  return cls.startsWith('torch.nn.')
}
function isWrapper(n: Node) {
  return n.cls.startsWith('torch.nn.parallel.') && n.children.length === 1 && n.children[0]!.path.split('.').pop() === 'module'
}

/** Refuse anything that is not an MLP building block, naming its class and module path. */
function checkSupported(node: Node, file: string) {
  if (isTorchNn(node.cls) && !LEAVES.has(node.short) && !['Sequential', 'ModuleList', 'ModuleDict'].includes(node.short) && !isWrapper(node)) {
    throw new ModelError(`unsupported layer ${node.short} at module path '${node.path || '(root)'}' (${node.cls})`, {
      where: file,
      hint: SUPPORTED_TEXT,
    })
  }
  for (const c of node.children) checkSupported(c, file)
}

class OrderUnknown extends Error {}

function fromModule(archive: TorchArchive, obj: PyObject, format: string, key?: string): LoadedFile {
  const file = archive.file
  const script = format === 'torchscript'
  let root = toNode(obj, '', script, file)
  checkSupported(root, file)
  // nn.DataParallel / DistributedDataParallel: the model is the wrapped `module`
  while (isWrapper(root)) root = toNode(root.children[0]!.obj, '', script, file)
  const tensors: TensorMap = new Map()
  collectTensors(archive, root, tensors)
  const ctx: Ctx = { archive, file, classes: script ? indexCode(archive.code) : new Map() }
  try {
    const steps = stepsOf(root, ctx)
    return { format, tensors, steps }
  } catch (e) {
    if (!(e instanceof OrderUnknown)) throw e
    const where = key ? ` (under '${key}')` : ''
    return { format, tensors, orderUnknown: e.message + where }
  }
}

type Ctx = { archive: TorchArchive; file: string; classes: Map<string, ClassCode> }

function stepsOf(node: Node, ctx: Ctx): ArchStep[] {
  const name = node.path
  if (isTorchNn(node.cls)) {
    const tensorSteps = tensorModuleSteps(
      {
        short: node.short,
        path: name,
        attr: (key) => {
          const v = node.attrs.get(key)
          if (v !== undefined && !(v instanceof TensorRef)) return v
          const f = node.script ? classCode(node, ctx)?.finals.get(key) : undefined
          return f === undefined ? undefined : finalValue(f)
        },
        forwardText: node.script ? classCode(node, ctx)?.forward?.body.join('\n') : undefined,
      },
      ctx.file,
    )
    if (tensorSteps) return tensorSteps
    switch (node.short) {
      case 'Linear':
        return [{ op: 'linear', name }]
      case 'ReLU':
        return [{ op: 'activation', activation: { kind: 'relu' }, name }]
      case 'Sigmoid':
        return [{ op: 'activation', activation: { kind: 'sigmoid' }, name }]
      case 'Tanh':
        return [{ op: 'activation', activation: { kind: 'tanh' }, name }]
      case 'LeakyReLU': {
        const slope = numberAttr(node, 'negative_slope', ctx) ?? codeArg(node, ctx, /leaky_relu_?\(\s*\w+\s*,\s*([^,)\s]+)/) ?? 0.01
        return [{ op: 'activation', activation: { kind: 'leaky_relu', slope }, name }]
      }
      case 'Softmax': {
        const dim = node.script ? (numberAttr(node, 'dim', ctx) ?? codeArg(node, ctx, /softmax\(\s*\w+\s*,\s*(-?\d+)/)) : node.attrs.get('dim')
        checkSoftmaxDim(dim, name, ctx.file)
        return [{ op: 'activation', activation: { kind: 'softmax' }, name }]
      }
      case 'Flatten':
        return [{ op: 'flatten', name }]
      case 'Identity':
      case 'Dropout':
      case 'Dropout1d':
      case 'Dropout2d':
      case 'Dropout3d':
      case 'AlphaDropout':
      case 'FeatureAlphaDropout':
        return [{ op: 'skip', name }]
      case 'BatchNorm1d': {
        const eps = numberAttr(node, 'eps', ctx) ?? codeArg(node, ctx, /batch_norm\((?:[^,()]+,){7}\s*([^,)\s]+)/)
        return [eps === undefined ? { op: 'batchnorm', name } : { op: 'batchnorm', name, eps }]
      }
      case 'Sequential':
        return node.children.flatMap((c) => stepsOf(c, ctx))
    }
  }
  // A custom nn.Module (or ModuleList/ModuleDict): only TorchScript code says what forward() does.
  const subs = node.children.map((c) => `${c.path.slice(name ? name.length + 1 : 0)}: ${c.short}`).join(', ')
  const what = `'${node.short}'${name ? ` at module path '${name}'` : ''} is a custom nn.Module`
  if (!node.script)
    throw new OrderUnknown(
      `${what}: the pickle holds its submodules (${subs || 'none'}) but not the order forward() uses them or the activations it applies`,
    )
  try {
    return followForward(node, ctx)
  } catch (e) {
    if (e instanceof ForwardUnreadable) throw new OrderUnknown(`${what} and its TorchScript forward() is not a plain chain of layers: ${e.message}`)
    throw e
  }
}

function checkSoftmaxDim(dim: unknown, name: string, file: string) {
  if (dim === undefined || dim === null || dim === 1 || dim === -1) return
  throw new ModelError(`Softmax '${name}' is taken over dim ${String(dim)}`, { where: file, hint: 'only softmax over the features (dim=1 or -1) is supported' })
}

/** A numeric attribute: from the pickled module __dict__, or a TorchScript `name : Final[float] = v`. */
function numberAttr(node: Node, attr: string, ctx: Ctx): number | undefined {
  const v = node.attrs.get(attr)
  if (typeof v === 'number') return v
  if (!node.script) return undefined
  const cc = classCode(node, ctx)
  const f = cc?.finals.get(attr)
  return f !== undefined && Number.isFinite(Number(f)) ? Number(f) : undefined
}

/** A literal argument in a traced module's forward() (traced code inlines constants). */
function codeArg(node: Node, ctx: Ctx, re: RegExp): number | undefined {
  if (!node.script) return undefined
  const cc = classCode(node, ctx)
  const m = cc?.forward?.body.join('\n').match(re)
  if (!m) return undefined
  const n = Number(m[1])
  return Number.isFinite(n) ? n : undefined
}

// ---------------------------------------------------------------------------------------------------
// TorchScript code: `code/__torch__/<module path>.py` holds `class Name(Module):` blocks

type ClassCode = {
  finals: Map<string, string>
  forward?: { params: string[]; body: string[]; firstLine: string }
}

function indexCode(code: Map<string, string>): Map<string, ClassCode> {
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

function parseClass(body: string[]): ClassCode {
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

function classCode(node: Node, ctx: Ctx): ClassCode | undefined {
  return ctx.classes.get(node.rawClass)
}

function balanced(s: string): boolean {
  let d = 0
  for (const c of s) d += c === '(' ? 1 : c === ')' ? -1 : 0
  return d === 0
}

function matchParen(s: string, open: number): number {
  let d = 0
  for (let i = open; i < s.length; i++) {
    if (s[i] === '(') d++
    else if (s[i] === ')' && --d === 0) return i
  }
  return s.length
}

function splitTop(s: string): string[] {
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

// A tiny symbolic interpreter for TorchScript forward() bodies that are straight-line chains:
//   fc1 = self.fc1 / _0 = getattr(self, "0") / x = torch.relu((fc1).forward(x, )) / return …
// Each tensor value is the list of steps applied to the input so far.

class ForwardUnreadable extends Error {}

type Val =
  | { k: 'tensor'; steps: ArchStep[] }
  | { k: 'self' }
  | { k: 'module'; node: Node }
  | { k: 'method'; node: Node; method: string }
  | { k: 'fn'; name: string }
  | { k: 'const'; v: unknown }

type Expr =
  | { t: 'name'; v: string }
  | { t: 'num'; v: number }
  | { t: 'str'; v: string }
  | { t: 'attr'; obj: Expr; name: string }
  | { t: 'call'; fn: Expr; args: Expr[]; kwargs: Map<string, Expr> }
  | { t: 'list'; items: Expr[] }
  | { t: 'subscript'; obj: Expr }

function followForward(node: Node, ctx: Ctx): ArchStep[] {
  const cc = classCode(node, ctx)
  if (!cc?.forward) throw new ForwardUnreadable(`no forward() found for ${node.rawClass} in the archive's code/`)
  const { params, body } = cc.forward
  const inputs = params.slice(1)
  if (inputs.length !== 1) throw new ForwardUnreadable(`forward() takes ${inputs.length} inputs (${inputs.join(', ')}); one is supported`)
  const env = new Map<string, Val>([
    ['self', { k: 'self' }],
    [inputs[0]!, { k: 'tensor', steps: [] }],
  ])
  for (const raw of body) {
    const line = raw.trim()
    if (!raw.startsWith('    ') || raw.startsWith('     ') || line.endsWith(':'))
      throw new ForwardUnreadable(`control flow is not supported ("${line}")`)
    if (line.startsWith('return ')) {
      const v = evaluate(parseExpr(line.slice(7), line), env, node, ctx, line)
      if (v.k !== 'tensor') throw new ForwardUnreadable(`forward() does not return a tensor ("${line}")`)
      return v.steps
    }
    const m = line.match(/^(\w+)\s*=\s*(.+)$/)
    if (!m) throw new ForwardUnreadable(`cannot read "${line}"`)
    env.set(m[1]!, evaluate(parseExpr(m[2]!, line), env, node, ctx, line))
  }
  throw new ForwardUnreadable('forward() has no return statement')
}

function evaluate(e: Expr, env: Map<string, Val>, node: Node, ctx: Ctx, line: string): Val {
  const fail = (why: string) => new ForwardUnreadable(`${why} in "${line}"`)
  switch (e.t) {
    case 'num':
      return { k: 'const', v: e.v }
    case 'str':
      return { k: 'const', v: e.v }
    case 'name': {
      const v = env.get(e.v)
      if (v) return v
      if (e.v === 'None') return { k: 'const', v: null }
      if (e.v === 'True' || e.v === 'False') return { k: 'const', v: e.v === 'True' }
      if (['torch', '__torch__', 'ops', 'getattr', 'unchecked_cast', 'annotate', 'int', 'List'].includes(e.v)) return { k: 'fn', name: e.v }
      throw fail(`unknown name '${e.v}'`)
    }
    case 'attr': {
      const base = evaluate(e.obj, env, node, ctx, line)
      if (base.k === 'self') return selfAttr(node, e.name, fail)
      if (base.k === 'fn') return { k: 'fn', name: `${base.name}.${e.name}` }
      if (base.k === 'module') return { k: 'method', node: base.node, method: e.name }
      throw fail(`attribute '${e.name}' of a ${base.k}`)
    }
    case 'list': {
      // [2, 2] is a constant; [int(_0), -1] (a view's shape) is shape arithmetic: opaque
      const items = e.items.map((it) => evaluate(it, env, node, ctx, line))
      return { k: 'const', v: items.every((it) => it.k === 'const' && it.v !== OPAQUE) ? items.map((it) => (it as { v: unknown }).v) : OPAQUE }
    }
    case 'subscript':
      return { k: 'const', v: OPAQUE } // (torch.size(x))[0], List[int]: shapes and types
    case 'call': {
      const fn = evaluate(e.fn, env, node, ctx, line)
      const args = e.args.map((a) => evaluate(a, env, node, ctx, line))
      const kwargs = new Map([...e.kwargs].map(([k, a]) => [k, evaluate(a, env, node, ctx, line)] as const))
      if (fn.k === 'method') {
        if (fn.method !== 'forward') throw fail(`call of method '${fn.method}'`)
        if (args.length === 0) return { k: 'const', v: null } // traced Identity: forward() with no input
        const x = args[0]!
        if (x.k !== 'tensor' || args.length !== 1) throw fail('a submodule called with other than one tensor')
        return { k: 'tensor', steps: [...x.steps, ...stepsOf(fn.node, ctx)] }
      }
      if (fn.k !== 'fn') throw fail(`call of a ${fn.k}`)
      const name = fn.name.replace(/^__torch__\./, '')
      if (name === 'getattr') {
        const [obj, attr] = args
        if (obj?.k !== 'self' || attr?.k !== 'const' || typeof attr.v !== 'string') throw fail('getattr on something other than self')
        return selfAttr(node, attr.v, fail)
      }
      return applyFunction(name, args, kwargs, fail)
    }
  }
}

function selfAttr(node: Node, name: string, fail: (w: string) => Error): Val {
  const child = node.children.find((c) => c.path.split('.').pop() === name)
  if (child) return { k: 'module', node: child }
  const v = node.attrs.get(name)
  if (v instanceof TensorRef) throw fail(`direct use of the tensor self.${name}`)
  if (v === undefined) throw fail(`unknown attribute self.${name}`)
  return { k: 'const', v }
}

const FN_ALIASES: Record<string, string> = {
  'torch.relu': 'relu', 'torch.relu_': 'relu', 'torch.nn.functional.relu': 'relu', 'torch.nn.functional.relu_': 'relu',
  'torch.sigmoid': 'sigmoid', 'torch.sigmoid_': 'sigmoid', 'torch.nn.functional.sigmoid': 'sigmoid',
  'torch.tanh': 'tanh', 'torch.tanh_': 'tanh', 'torch.nn.functional.tanh': 'tanh',
  'torch.leaky_relu': 'leaky_relu', 'torch.leaky_relu_': 'leaky_relu', 'torch.nn.functional.leaky_relu': 'leaky_relu',
  'torch.nn.functional.leaky_relu_': 'leaky_relu',
  'torch.softmax': 'softmax', 'torch.nn.functional.softmax': 'softmax',
  'torch.dropout': 'skip', 'torch.nn.functional.dropout': 'skip', 'torch.feature_dropout': 'skip',
  'torch.flatten': 'flatten', 'torch.view': 'flatten', 'torch.reshape': 'flatten',
  'torch.contiguous': 'skip',
}

/** Calls that compute shapes or types (torch.size, int, annotate, …): their values stay opaque. */
const SHAPE_FNS = new Set(['torch.size', 'ops.prim.NumToTensor', 'int', 'annotate', 'torch.len', 'unchecked_cast'])
const OPAQUE = Symbol('shape arithmetic')

/** Functional pooling in TorchScript code → the module it stands for, and its arguments after the input. */
const POOL_FNS: Record<string, { cls: string; params: string[] }> = (() => {
  const out: Record<string, { cls: string; params: string[] }> = {}
  for (const d of ['1d', '2d']) {
    const max = { cls: `MaxPool${d}`, params: ['kernel_size', 'stride', 'padding', 'dilation', 'ceil_mode', 'return_indices'] }
    const avg = { cls: `AvgPool${d}`, params: ['kernel_size', 'stride', 'padding', 'ceil_mode', 'count_include_pad', 'divisor_override'] }
    const ada = { cls: `AdaptiveAvgPool${d}`, params: ['output_size'] }
    for (const pre of ['torch.', 'torch.nn.functional.', 'torch.nn.functional._']) {
      out[`${pre}max_pool${d}`] = max
      out[`${pre}avg_pool${d}`] = avg
      out[`${pre}adaptive_avg_pool${d}`] = ada
    }
  }
  return out
})()

function applyFunction(name: string, args: Val[], kwargs: Map<string, Val>, fail: (w: string) => Error): Val {
  if (SHAPE_FNS.has(name)) return name === 'annotate' && args[1] ? args[1] : { k: 'const', v: OPAQUE }
  const pool = POOL_FNS[name]
  if (pool) {
    const x = args[0]
    if (x?.k !== 'tensor') throw fail(`'${name}' not applied to the input chain`)
    const value = (i: number, kw: string) => {
      const v = args[i + 1] ?? kwargs.get(kw)
      if (v === undefined) return undefined
      if (v.k !== 'const' || v.v === OPAQUE) throw fail(`non-constant argument ${kw} of '${name}'`)
      return v.v
    }
    const attrs = new Map(pool.params.map((p, i) => [p, value(i, p)] as const))
    const steps = tensorModuleSteps({ short: pool.cls, path: name.split('.').pop()!.replace(/^_/, ''), attr: (k) => attrs.get(k) }, 'TorchScript code')!
    return { k: 'tensor', steps: [...x.steps, ...steps] }
  }
  const kind = FN_ALIASES[name]
  if (!kind) throw fail(`unsupported call '${name}'`)
  const x = args[0]
  if (x?.k !== 'tensor') throw fail(`'${name}' not applied to the input chain`)
  const arg = (i: number, kw: string): unknown => {
    const v = args[i] ?? kwargs.get(kw)
    if (v === undefined) return undefined
    if (v.k !== 'const') throw fail(`non-constant argument ${kw} of '${name}'`)
    return v.v
  }
  let activation: Activation | undefined
  switch (kind) {
    case 'relu':
    case 'sigmoid':
    case 'tanh':
      activation = { kind }
      break
    case 'leaky_relu': {
      const s = arg(1, 'negative_slope')
      activation = { kind: 'leaky_relu', slope: typeof s === 'number' ? s : 0.01 }
      break
    }
    case 'softmax': {
      const d = arg(1, 'dim')
      if (!(d === undefined || d === null || d === 1 || d === -1)) throw fail(`softmax over dim ${String(d)}`)
      activation = { kind: 'softmax' }
      break
    }
    case 'skip':
      return x
    case 'flatten':
      if (name === 'torch.flatten' && typeof arg(1, 'start_dim') === 'number' && arg(1, 'start_dim') !== 1) throw fail('flatten over the batch dimension')
      return { k: 'tensor', steps: [...x.steps, { op: 'flatten', name: name.slice('torch.'.length) }] }
  }
  return { k: 'tensor', steps: [...x.steps, { op: 'activation', activation: activation! }] }
}

// expression parser for the subset above

function parseExpr(src: string, line: string): Expr {
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
      if (peek() === ',') throw fail('tuples are not supported')
      expect(')')
      return e
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

import { readFile } from 'node:fs/promises'
import { ModelError } from '../errors/base.ts'
import type { ArchStep, TensorMap } from '../ir/types.ts'
import { readTorchFile, type TorchArchive } from './readTorchZip.ts'
import { finalValue, TENSOR_MODULES, tensorModuleSteps } from './ptTensorModules.ts'
import { ACTIVATION_CLASSES, torchActivation } from './torchActivations.ts'
import type { LoadedFile } from './types.ts'
import { followForward, ForwardUnreadable } from './pt/forwardInterpreter.ts'
import { collectTensors, isPyModule, isScriptModule, isTorchNn, isWrapper, toNode, type Node } from './pt/moduleTree.ts'
import { indexCode, type ClassCode } from './pt/torchscriptCode.ts'
import { tracedAttention, tracedEncoder } from './pt/attentionCalls.ts'
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
// module trees (torch.save(model) and TorchScript): pt/moduleTree.ts reads them; here, their steps

const DROPOUTS = ['Dropout1d', 'Dropout2d', 'Dropout3d', 'AlphaDropout', 'FeatureAlphaDropout']
const LEAVES = new Set(['Embedding', 'GRU', 'LSTM', 'MultiheadAttention', 'TransformerEncoderLayer', 'Linear', 'ReLU', 'LeakyReLU', 'Sigmoid', 'Tanh', 'Softmax', 'Identity', 'Flatten', 'Dropout', ...DROPOUTS, 'BatchNorm1d', 'LayerNorm', 'GroupNorm', ...TENSOR_MODULES, ...ACTIVATION_CLASSES])
const SUPPORTED_TEXT =
  'ml2sc handles Linear, ReLU, LeakyReLU, Sigmoid, Tanh, Softmax and LogSoftmax (last layer), ReLU6, Hardtanh, Hardsigmoid, Hardswish, ELU, SiLU, GELU, Softplus, Mish, PReLU (one slope), BatchNorm1d/2d, LayerNorm, GroupNorm, Dropout, ' +
  'Identity, Flatten, Embedding (of input columns, concatenated before a Linear), Conv1d/2d, MaxPool1d/2d, AvgPool1d/2d and AdaptiveAvgPool1d/2d(1), GRU/LSTM (1-2 layers, either direction, first), MultiheadAttention or one TransformerEncoderLayer (self-attention, first), in an nn.Sequential or a custom nn.Module'

function checkSupported(node: Node, file: string) {
  if (isTorchNn(node.cls) && !LEAVES.has(node.short) && !['Sequential', 'ModuleList', 'ModuleDict'].includes(node.short) && !isWrapper(node)) {
    throw new ModelError(`unsupported layer ${node.short} at module path '${node.path || '(root)'}' (${node.cls})`, {
      where: file,
      hint: SUPPORTED_TEXT,
    })
  }
  // MultiheadAttention's out_proj is a NonDynamicallyQuantizableLinear: its own tensors, read with it
  if (node.short !== 'MultiheadAttention' && node.short !== 'TransformerEncoderLayer') for (const c of node.children) checkSupported(c, file)
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
    if (node.short === 'PReLU') return [{ op: 'prelu', name }]
    const act = torchActivation(node.short, ([key], pos) => moduleAttr(node, key!, pos, ctx), `${node.short} '${name}'`, ctx.file)
    if (act) return [{ op: 'activation', activation: act, name }]
    switch (node.short) {
      case 'GRU':
      case 'LSTM': {
        // nn.GRU / nn.LSTM: one or two layers, one or two directions (the `_reverse` tensors say which)
        const layers = numberAttr(node, 'num_layers', ctx)
        if (layers !== undefined && layers !== 1 && layers !== 2) throw new ModelError(`${node.short} '${name}' has num_layers=${layers}: not supported on chain yet`, { where: ctx.file, hint: 'use num_layers=1 or 2' })
        const proj = numberAttr(node, 'proj_size', ctx)
        if (proj) throw new ModelError(`LSTM '${name}' has proj_size=${proj}: not supported on chain yet`, { where: ctx.file, hint: 'leave proj_size at 0' })
        return [{ op: node.short === 'GRU' ? 'gru' : 'lstm', name, batchFirst: node.attrs.get('batch_first') === true }]
      }
      case 'MultiheadAttention': {
        const traced = node.script && numberAttr(node, 'num_heads', ctx) === undefined ? tracedAttention(classCode(node, ctx)?.forward?.body ?? [], (i) => ctx.archive.constant?.(i)) : undefined
        const heads = traced?.heads ?? numberAttr(node, 'num_heads', ctx)
        if (node.attrs.get('_qkv_same_embed_dim') === false) throw new ModelError(`MultiheadAttention '${name}' has kdim/vdim ≠ embed_dim: not supported on chain`, { where: ctx.file, hint: 'self-attention: leave kdim and vdim at None' })
        return [{ op: 'mha', name, ...(heads === undefined ? {} : { heads }), batchFirst: traced?.batchFirst ?? node.attrs.get('batch_first') === true }]
      }
      case 'TransformerEncoderLayer': {
        // TorchScript keeps activation_relu_or_gelu (1 relu, 2 gelu), norm_first and the children's attributes
        const sa = node.children.find((c) => c.short === 'MultiheadAttention')
        const n1 = node.children.find((c) => c.path === `${name}.norm1`)
        // a trace records neither: its code shows the activation and the norm order, its attention's the heads
        const traced = node.script && numberAttr(node, 'activation_relu_or_gelu', ctx) === undefined ? tracedEncoder(classCode(node, ctx)?.forward?.body ?? []) : undefined
        const tracedSa = traced && sa ? tracedAttention(classCode(sa, ctx)?.forward?.body ?? [], (i) => ctx.archive.constant?.(i)) : undefined
        const code = traced ? traced.act : numberAttr(node, 'activation_relu_or_gelu', ctx)
        if (code === undefined) throw new OrderUnknown(`TransformerEncoderLayer '${name}': the file does not record its activation`)
        if (!sa || (code !== 1 && code !== 2)) throw new ModelError(`TransformerEncoderLayer '${name}': its activation is not relu or gelu (or not recorded)`, { where: ctx.file, hint: "activation='relu' or 'gelu'; or give the state_dict with model.source" })
        const heads = tracedSa?.heads ?? numberAttr(sa, 'num_heads', ctx)
        const act = code === 1 ? ({ kind: 'relu' } as const) : ({ kind: 'gelu', approximate: 'none' } as const)
        const encoder = { name, normFirst: traced?.normFirst ?? node.attrs.get('norm_first') === true, act, eps: (n1 && numberAttr(n1, 'eps', ctx)) ?? 1e-5 }
        return [{ op: 'mha', name: `${name}.self_attn`, ...(heads === undefined ? {} : { heads }), batchFirst: tracedSa?.batchFirst ?? sa.attrs.get('batch_first') === true, encoder }]
      }
      case 'Linear':
        return [{ op: 'linear', name }]
      case 'Embedding':
        // read where forward() looks it up (pt/inputParts.ts); a step in a chain has no input columns to look up
        throw new ModelError(`nn.Embedding '${name}' is a step of a chain: ml2sc reads an embedding of input columns concatenated into a Linear`, { where: ctx.file, hint: 'write a custom nn.Module whose forward() does torch.cat([self.emb(x[:, 0].long()), x[:, 1:]], dim=1), and give model.source for a whole .pt' })
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
      case 'LayerNorm':
      case 'GroupNorm':
        return [normStep(node, ctx)]
      case 'Sequential': {
        // a GRU/LSTM returns an (output, h_n) tuple: no layer after it in an nn.Sequential can take that
        const rec = node.children.slice(0, -1).find((c) => c.short === 'GRU' || c.short === 'LSTM')
        if (rec) throw new ModelError(`${rec.short} '${rec.path}' inside an nn.Sequential: its (output, h_n) tuple cannot feed the next layer`, { where: ctx.file, hint: 'use a custom nn.Module passing out[:, -1, :] or h[-1] to its Linear layers, and give its source as model.source' })
        return node.children.flatMap((c) => stepsOf(c, ctx))
      }
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
    return followForward(node, { classes: ctx.classes, stepsOf: (n) => stepsOf(n, ctx) })
  } catch (e) {
    if (e instanceof ForwardUnreadable) throw new OrderUnknown(`${what} and its TorchScript forward() is not a plain chain of layers: ${e.message}`)
    throw e
  }
}

/**
 * nn.LayerNorm / nn.GroupNorm in a module tree: eps, the groups and the width from the pickled attributes, a
 * script's constants or a trace's `torch.layer_norm(input, [n], weight, bias, eps)` / `torch.group_norm(input, g, …)`
 * (eps left out when it is the default 1e-5); γ/β when the module holds them (affine).
 */
function normStep(node: Node, ctx: Ctx): ArchStep {
  const ln = node.short === 'LayerNorm'
  const call = ln ? /layer_norm\(\s*\w+\s*,\s*\[\s*(\d+)\s*\]\s*,\s*\w+\s*,\s*\w+\s*(?:,\s*([-\d.e]+))?/ : /group_norm\(\s*\w+\s*,\s*(\d+)\s*,\s*\w+\s*,\s*\w+\s*(?:,\s*([-\d.e]+))?/
  const m = node.script ? classCode(node, ctx)?.forward?.body.join('\n').match(call) : undefined
  const shape = node.attrs.get('normalized_shape')
  const width = ln ? (Array.isArray(shape) && shape.length === 1 ? Number(shape[0]) : m ? Number(m[1]) : undefined) : numberAttr(node, 'num_channels', ctx)
  const groups = ln ? 1 : (numberAttr(node, 'num_groups', ctx) ?? (m ? Number(m[1]) : undefined))
  const eps = numberAttr(node, 'eps', ctx) ?? (m?.[2] !== undefined ? Number(m[2]) : m || !node.script ? 1e-5 : undefined)
  if (groups === undefined || eps === undefined) throw new OrderUnknown(`${node.short} '${node.path}': the file does not record its ${groups === undefined ? 'num_groups' : 'eps'}`)
  const has = (k: string) => node.tensors.some(([n]) => n === k)
  return {
    op: 'norm', name: node.path, what: ln ? 'LayerNorm' : 'GroupNorm', groups, eps, ...(width !== undefined && Number.isFinite(width) ? { size: width } : {}),
    ...(has('weight') ? { weight: `${node.path}.weight` } : {}), ...(has('bias') ? { bias: `${node.path}.bias` } : {}),
  }
}

function checkSoftmaxDim(dim: unknown, name: string, file: string) {
  if (dim === undefined || dim === null || dim === 1 || dim === -1) return
  throw new ModelError(`Softmax '${name}' is taken over dim ${String(dim)}`, { where: file, hint: 'only softmax over the features (dim=1 or -1) is supported' })
}

/** A numeric attribute: from the pickled module __dict__, or a TorchScript `name : Final[float] = v`. */
/**
 * A module's constructor argument: a pickled attribute, a TorchScript constant, or (a traced module) the
 * keyword in its forward code (`torch.gelu(input, approximate="tanh")`).
 */
function moduleAttr(node: Node, key: string, pos: number, ctx: Ctx): number | string | boolean | undefined {
  const v = node.attrs.get(key)
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v
  if (!node.script) return undefined
  const cc = classCode(node, ctx)
  const code = cc?.forward?.body.join('\n') ?? ''
  let f = cc?.finals.get(key) ?? code.match(new RegExp(`\\b${key}\\s*=\\s*("[^"]*"|'[^']*'|[-\\w.]+)`))?.[1]
  // a traced module's code passes its arguments by position: torch.elu(input, 0.7, 1, 1)
  if (f === undefined && pos >= 0) f = code.match(/torch\.(?:nn\.functional\.)?\w+\(\s*\w+\s*,([^()]*)\)/)?.[1]?.split(',')[pos]?.trim()
  if (f === undefined || f.includes('=')) return undefined
  const val = finalValue(f)
  return typeof val === 'number' || typeof val === 'string' || typeof val === 'boolean' ? val : undefined
}

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


function classCode(node: Node, ctx: Ctx): ClassCode | undefined {
  return ctx.classes.get(node.rawClass)
}

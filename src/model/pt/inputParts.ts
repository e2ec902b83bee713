import type { ArchStep } from '../../ir/types.ts'
import type { EmbedPiece } from '../../ir/categorical.ts'
import type { InputPart } from '../source/inputColumns.ts'
import type { Node } from './moduleTree.ts'
import type { ClassCode } from './torchscriptCode.ts'

/**
 * nn.Embedding on columns of the model's input, as TorchScript code writes it (trace and script alike):
 *   torch.slice(x, 0, 0, 9223372036854775807) / torch.slice(x)   x[:, …]: every row (the input itself)
 *   torch.select(x, 1, k)                                         x[:, k]: one column (an embedding's index)
 *   torch.slice(x, 1, a, b)                                       x[:, a:b]: columns
 *   torch.to(c, 4)                                                .long() / .to(torch.int64): an index cast
 *   (emb).forward(c) / torch.embedding(emb.weight, c)             the lookup (F.embedding(c, emb.weight) in script)
 *   torch.flatten(e, 1) / torch.view(e, [n, -1]) / squeeze(e, 1)  several columns' lookups side by side
 *   torch.cat([a, b, x[:, 2:]], 1)                                the input concatenation (ir/foldEmbedding.ts)
 * A part used as a tensor anywhere else becomes the `embedcat` step the first Linear folds.
 */
export type PartVal = { k: 'part'; part: InputPart; /** cast to an integer type: an index, never a numeric feature */ index?: true; /** [N, k, dim] before it is flattened */ wide?: true }

type V = { k: string; steps?: ArchStep[]; input?: true; node?: Node; method?: string; v?: unknown; items?: V[] } | PartVal
type Fail = (why: string) => Error

const BIG = 2 ** 62
const isInput = (v: V | undefined) => v?.k === 'tensor' && 'input' in v && v.input === true
const asPart = (v: V | undefined) => (v?.k === 'part' ? (v as PartVal) : undefined)
const num = (x: unknown, dflt: number) => (x === undefined || x === null ? dflt : typeof x === 'number' ? x : NaN)
// ScalarType codes of torch.to(x, dtype): uint8, int8, int16, int32, int64 | float, double
const INT_TYPES = new Set([0, 1, 2, 3, 4, 'torch.uint8', 'torch.int8', 'torch.int16', 'torch.int32', 'torch.int64', 'torch.int', 'torch.long', 'torch.short'])
const FLOAT_TYPES = new Set([6, 7, 'torch.float', 'torch.float32', 'torch.float64', 'torch.double'])

/**
 * A call on the input's columns or an embedding's lookup: its value, or undefined when the call is none of
 * these (the interpreter goes on with it). `raw[i]`: argument i as a constant (a dtype as its torch name).
 */
export function inputPartCall(name: string | undefined, target: { node: Node; method: string } | undefined, args: V[], raw: unknown[], codeOf: (n: Node) => ClassCode | undefined, fail: Fail): V | undefined {
  if (target) {
    if (target.node.short !== 'Embedding' || !/^forward(__\d+)?$/.test(target.method)) return undefined
    return lookup(target.node, args[0], codeOf, fail)
  }
  const x = args[0]
  const p = asPart(x)
  switch (name) {
    case 'torch.embedding': // torch.embedding(weight, indices, padding_idx, …): emb.weight
      return lookup(embeddingOf(args[0], fail), args[1], codeOf, fail)
    case 'torch.nn.functional.embedding': // F.embedding(indices, weight, padding_idx, max_norm, …)
      if (raw[3] !== undefined && raw[3] !== null) throw fail('F.embedding with max_norm (it renormalises rows at lookup)')
      return lookup(embeddingOf(args[1], fail), args[0], codeOf, fail)
    case 'torch.slice': {
      if (!isInput(x) && !p) return undefined
      const [dim, from, end, step] = [num(raw[1], 0), num(raw[2], 0), num(raw[3], BIG), num(raw[4], 1)]
      const to = end >= BIG ? undefined : end
      if (dim === 0 && from === 0 && to === undefined && step === 1) return x // x[:, …]: every row
      if (p || (dim !== 1 && dim !== -1) || step !== 1 || !Number.isInteger(from) || from < 0 || (to !== undefined && (!Number.isInteger(to) || to <= from)))
        throw fail('a slice of the input other than x[:, a:b] (columns, step 1, from the left)')
      return { k: 'part', part: { cols: { from, ...(to === undefined ? {} : { to }), single: false } } }
    }
    case 'torch.select': {
      if (!isInput(x)) return undefined
      const [dim, k] = [num(raw[1], NaN), num(raw[2], NaN)]
      if ((dim !== 1 && dim !== -1) || !Number.isInteger(k) || k < 0) throw fail('a selection from the input other than a column x[:, k] (k counted from the left)')
      return { k: 'part', part: { cols: { from: k, to: k + 1, single: true } } }
    }
    case 'torch.to': {
      if (!p && !isInput(x)) return undefined
      const dtype = raw.slice(1).find((r) => INT_TYPES.has(r as number) || FLOAT_TYPES.has(r as number))
      if (p?.part.cols && INT_TYPES.has(dtype as number)) return { ...p, index: true }
      if (FLOAT_TYPES.has(dtype as number) && !p?.index) return x
      throw fail(`a cast of the input's columns to ${String(raw[1])} (an index cast .long() or a float cast is read)`)
    }
    case 'torch.flatten':
    case 'torch.view':
    case 'torch.reshape':
    case 'torch.squeeze': {
      if (!p?.wide) return undefined
      const shape = raw[1]
      const ok =
        name === 'torch.flatten' ? raw[1] === 1 && (raw[2] === undefined || raw[2] === -1)
        : name === 'torch.squeeze' ? (raw[1] === 1 || raw[1] === -2) && p.part.embed!.length === 1
        : Array.isArray(shape) && shape.length === 2 && shape[1] === -1
      if (!ok) throw fail(`'${name}' of an nn.Embedding's lookup of several columns (flatten it to [N, columns × dim])`)
      return { k: 'part', part: p.part }
    }
    case 'torch.cat': {
      const items = args[0]?.k === 'list' ? (args[0] as { items: V[] }).items : undefined
      if (!items?.some((it) => it.k === 'part')) return undefined
      const dim = raw[1]
      if (dim !== 1 && dim !== -1) throw fail(`torch.cat of embeddings along dim ${String(dim)} (along the features, dim=1, is read)`)
      return { k: 'part', part: { embed: items.flatMap((it) => piecesOf(it, fail)) } }
    }
  }
  return undefined // a part as any other call's argument: partAsTensor
}

/** A part used as a tensor: the input concatenation step (folded into the first Linear by ir/foldEmbedding.ts). */
export function partAsTensor(v: PartVal, fail: Fail): { k: 'tensor'; steps: ArchStep[] } {
  return { k: 'tensor', steps: [{ op: 'embedcat', pieces: piecesOf(v, fail), name: 'input' }] }
}

function piecesOf(v: V, fail: Fail): EmbedPiece[] {
  if (isInput(v)) return [{ kind: 'columns', from: 0 }]
  const p = asPart(v)
  if (p?.wide) throw fail("an nn.Embedding's lookup of several columns is [N, columns, dim]: flatten it (torch.flatten(e, 1)) before torch.cat")
  if (p?.part.embed) return p.part.embed
  const c = p?.part.cols
  if (c && !c.single && !p.index) return [{ kind: 'columns', from: c.from, ...(c.to === undefined ? {} : { to: c.to }) }]
  if (c) throw fail(`x[:, ${c.from}${c.single ? '' : ':' + (c.to ?? '')}]${p.index ? ' cast to an integer' : ' (a 1-D column)'} used as a feature: use it as an nn.Embedding's index, or take x[:, k:k+1]`)
  throw fail('torch.cat of nn.Embedding outputs with a value computed from the input (only embeddings of input columns and slices x[:, a:b] are read)')
}

function embeddingOf(w: V | undefined, fail: Fail): Node {
  if (w?.k === 'method' && 'node' in w && w.node?.short === 'Embedding' && w.method === 'weight') return w.node
  throw fail('torch.embedding of a table other than an nn.Embedding module\'s weight')
}

/** emb(x[:, k].long()) (or x[:, a:b]: one lookup per column, [N, b − a, dim] until flattened). */
function lookup(node: Node, idx: V | undefined, codeOf: (n: Node) => ClassCode | undefined, fail: Fail): PartVal {
  const cc = codeOf(node)
  const maxNorm = cc?.finals.get('max_norm')
  if ((maxNorm !== undefined && maxNorm !== 'None') || /renorm/.test(cc?.forward?.body.join('\n') ?? ''))
    throw fail(`nn.Embedding '${node.path}' has max_norm (it renormalises the looked-up rows at inference; ml2sc folds the plain table)`)
  const c = asPart(idx)?.part.cols
  if (!c || !asPart(idx)!.index) throw fail(`nn.Embedding '${node.path}' looks up other than columns of the model's input cast to integers (x[:, k].long())`)
  if (c.single) return { k: 'part', part: { embed: [{ kind: 'embedding', name: node.path, column: c.from }] } }
  if (c.to === undefined) throw fail(`nn.Embedding '${node.path}' of the open slice x[:, ${c.from}:] (give its end, x[:, ${c.from}:b])`)
  const embed: EmbedPiece[] = []
  for (let k = c.from; k < c.to; k++) embed.push({ kind: 'embedding', name: node.path, column: k })
  return { k: 'part', part: { embed }, wide: true }
}

import { ModelError } from '../../errors/base.ts'
import type { ArchStep } from '../../ir/types.ts'
import type { EmbedPiece } from '../../ir/categorical.ts'
import { text, unsupported, type Ctx, type Node } from './expressions.ts'

/**
 * Columns of the model's input in forward() (`x[:, 0]`, `x[:, 1:]`) and what nn.Embedding makes of them,
 * before they meet torch.cat and the first Linear (ir/foldEmbedding.ts).
 * - `cols`: x[:, from:to] (`single`: x[:, k], a 1-D column, as an embedding's index);
 * - `embed`: the pieces of a concatenation so far (embeddings of one column each, column slices).
 */
export type InputPart = { cols?: { from: number; to?: number; single: boolean }; embed?: EmbedPiece[]; /** several columns looked up: [N, k, dim] until flattened */ wide?: true }

const ONE_COLUMN = "ml2sc reads nn.Embedding of one column of the model's input, self.emb(x[:, 0].long()), or of columns x[:, a:b] flattened: self.emb(x[:, 0:2].long()).flatten(1)"

/** self.emb(x[:, k].long()): one lookup; self.emb(x[:, a:b].long()): one per column, [N, b − a, dim] until flattened. */
export function embedLookup(idx: InputPart & { steps: ArchStep[] }, name: string, ctx: Ctx, at: Node): InputPart & { steps: ArchStep[] } {
  const c = idx.cols
  if (!c || idx.steps.length || (!c.single && c.to === undefined)) unsupported(ctx, text(ctx, at), at.line, ONE_COLUMN)
  const embed: EmbedPiece[] = []
  for (let k = c.from; k < (c.to ?? c.from + 1); k++) embed.push({ kind: 'embedding', name, column: k })
  return { steps: [], embed, ...(c.single ? {} : { wide: true as const }) }
}

/** e.flatten(1), e.view(x.size(0), -1), e.reshape(n, -1), e.squeeze(1) (one column), torch.flatten(e, 1) of a wide lookup. */
export function flattenLookup(v: InputPart, method: string, call: Extract<Node, { k: 'call' }>, ctx: Ctx): (InputPart & { steps: ArchStep[] }) | undefined {
  if (!v.wide) return undefined
  const a = call.args.map((n) => (n.k === 'num' ? n.v : undefined))
  const ok = method === 'flatten' ? a[0] === 1 && a.length === 1 : method === 'squeeze' ? a[0] === 1 && v.embed!.length === 1 : a.length === 2 && a[1] === -1
  if (!ok || call.kwargs.size) unsupported(ctx, text(ctx, call), call.line, ONE_COLUMN)
  return { steps: [], embed: v.embed! }
}

/** `[:, 0]`, `[:, 1:]`, `[..., 2:5]`: the columns a subscript of the input takes, or undefined. */
export function columnsOf(index: string): InputPart['cols'] | undefined {
  const parts = index.replace(/^\[|\]$/g, '').split(',').map((p) => p.trim())
  if (parts.length !== 2 || (parts[0] !== ':' && parts[0] !== '...')) return undefined
  const p = parts[1]!
  if (/^\d+$/.test(p)) return { from: Number(p), to: Number(p) + 1, single: true }
  const m = /^(\d*)\s*:\s*(\d*)$/.exec(p)
  if (!m) return undefined
  return { from: m[1] ? Number(m[1]) : 0, ...(m[2] ? { to: Number(m[2]) } : {}), single: false }
}

/** Casts of an index column that change nothing ml2sc sees: `.long()`, `.int()`, `.to(torch.long)`. */
export function isIndexCast(method: string, call: Extract<Node, { k: 'call' }>, ctx: Ctx): boolean {
  if (/^(long|int)$/.test(method) && call.args.length === 0) return true
  return method === 'to' && call.args.length === 1 && /^torch\.(long|int64|int32|int)$/.test(text(ctx, call.args[0]!))
}

/** The pieces a torch.cat operand contributes: an embedding, a column slice, or the whole input (x itself). */
export function piecesOf(part: InputPart, wholeInput: boolean, ctx: Ctx, at: Node): EmbedPiece[] | undefined {
  if (part.wide) unsupported(ctx, text(ctx, at), at.line, ONE_COLUMN)
  if (part.embed) return part.embed
  if (part.cols && !part.cols.single) return [{ kind: 'columns', from: part.cols.from, ...(part.cols.to === undefined ? {} : { to: part.cols.to }) }]
  if (part.cols?.single) throw new ModelError(`'${text(ctx, at)}' at ${ctx.file}:${at.line} is a 1-D column: use it as an nn.Embedding's index, or take x[:, k:k+1]`, { where: ctx.where })
  return wholeInput ? [{ kind: 'columns', from: 0 }] : undefined
}

/** An embedding (or a column slice) used as a tensor: the concatenation step at the model's input. */
export function asInputStep(part: InputPart, ctx: Ctx, at: Node): ArchStep[] | undefined {
  if (!part.embed && !part.cols) return undefined
  return [{ op: 'embedcat', pieces: piecesOf(part, false, ctx, at)!, name: text(ctx, at) }]
}

import { ModelError } from '../../errors/base.ts'
import type { ArchStep } from '../../ir/types.ts'
import type { EmbedPiece } from '../../ir/categorical.ts'
import { text, type Ctx, type Node } from './expressions.ts'

/**
 * Columns of the model's input in forward() (`x[:, 0]`, `x[:, 1:]`) and what nn.Embedding makes of them,
 * before they meet torch.cat and the first Linear (ir/foldEmbedding.ts).
 * - `cols`: x[:, from:to] (`single`: x[:, k], a 1-D column, as an embedding's index);
 * - `embed`: the pieces of a concatenation so far (embeddings of one column each, column slices).
 */
export type InputPart = { cols?: { from: number; to?: number; single: boolean }; embed?: EmbedPiece[] }

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

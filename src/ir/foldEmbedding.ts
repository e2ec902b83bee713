import { ModelError } from '../errors/base.ts'
import { expandedLayout, type CategoricalInput, type EmbedPiece } from './categorical.ts'
import type { Tensor } from './types.ts'


/**
 * Fold the embedding tables of `cat(pieces)` through the Linear that reads it (weight[out][in]):
 * W·cat(E[c], x) = Σ W_E·E[c] + W_x·x, so each category gets the weight column W_E·E[c] (float64, exact up
 * to its rounding) and the layer reads the expanded input of ir/categorical.ts. Returns that layer's new
 * weights, the categorical columns and the CSV's feature count.
 */
export function foldEmbeddings(
  pieces: EmbedPiece[],
  linear: { name: string; weight: number[][] },
  take: (key: string, what: string) => Tensor,
  file: string,
): { weight: number[][]; categorical: CategoricalInput[]; inputSize: number } {
  const nIn = linear.weight[0]!.length
  const tables = new Map<string, Tensor>()
  for (const p of pieces) {
    if (p.kind !== 'embedding' || tables.has(p.name)) continue
    const t = take(`${p.name}.weight`, `Embedding '${p.name}'`)
    if (t.shape.length !== 2) throw new ModelError(`'${p.name}.weight' has shape [${t.shape}], expected [num_embeddings, embedding_dim]`, { where: file })
    tables.set(p.name, t)
  }
  const widthOf = (p: EmbedPiece) => (p.kind === 'embedding' ? tables.get(p.name)!.shape[1]! : p.to === undefined ? undefined : p.to - p.from)
  // an open slice (x[:, 1:]) takes what the Linear's width leaves
  const open = pieces.filter((p) => widthOf(p) === undefined)
  if (open.length > 1) throw new ModelError(`the input concatenation before '${linear.name}' has ${open.length} open column slices`, { where: file, hint: 'write at most one slice as x[:, a:]' })
  const known = pieces.reduce((s, p) => s + (widthOf(p) ?? 0), 0)
  const width = (p: EmbedPiece) => widthOf(p) ?? nIn - known
  if (open.length && width(open[0]!) < 1) throw new ModelError(`Linear '${linear.name}' takes ${nIn} inputs, but the embeddings before it already give ${known}`, { where: file })
  const total = pieces.reduce((s, p) => s + width(p), 0)
  if (total !== nIn) throw new ModelError(`Linear '${linear.name}' takes ${nIn} inputs but cat(embeddings, columns) gives ${total}`, { where: file, hint: 'check embedding_dim and the column slices in forward()' })
  // which CSV column each of the Linear's inputs comes from
  const owner = new Map<number, string>()
  const claim = (col: number, what: string) => {
    if (owner.has(col)) throw new ModelError(`input column ${col} is read twice (${owner.get(col)} and ${what})`, { where: file, hint: 'each CSV column may go to one embedding or stay numeric, not both' })
    owner.set(col, what)
  }
  const categorical: CategoricalInput[] = []
  for (const p of pieces) {
    if (p.kind === 'embedding') {
      claim(p.column, `embedding '${p.name}'`)
      categorical.push({ column: p.column, count: tables.get(p.name)!.shape[0]!, name: p.name })
    } else for (let c = p.from; c < p.from + width(p); c++) claim(c, `x[:, ${p.from}:${p.to ?? ''}]`)
  }
  const inputSize = Math.max(...owner.keys()) + 1
  categorical.sort((a, b) => a.column - b.column)
  const layout = expandedLayout(inputSize, categorical)
  const weight = linear.weight.map(() => new Array<number>(layout.size).fill(0))
  let j = 0 // the Linear's input index
  for (const p of pieces) {
    if (p.kind === 'embedding') {
      const t = tables.get(p.name)!
      const [count, dim] = t.shape as [number, number]
      linear.weight.forEach((row, o) => {
        for (let c = 0; c < count; c++) {
          let s = 0
          for (let d = 0; d < dim; d++) s += row[j + d]! * t.data[c * dim + d]!
          weight[o]![layout.at[p.column]! + c] = s
        }
      })
      j += dim
    } else {
      const n = width(p)
      linear.weight.forEach((row, o) => {
        for (let k = 0; k < n; k++) weight[o]![layout.at[p.from + k]!] = row[j + k]!
      })
      j += n
    }
  }
  return { weight, categorical, inputSize }
}

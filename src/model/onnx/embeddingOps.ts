import type { ArchStep, Tensor, TensorMap } from '../../ir/types.ts'
import type { EmbedPiece } from '../../ir/categorical.ts'
import type { InputPart } from '../source/inputColumns.ts'
import type { OAttr, ONode } from './proto.ts'

export type InputPartEnv = {
  /** The graph input's name. */
  input: string
  parts: Map<string, InputPart>
  stepsOf: Map<string, ArchStep[]>
  tensors: TensorMap
  isConst: (name: string | undefined) => boolean
  hasInitializer: (name: string) => boolean
  constTensor: (name: string) => Tensor
  unsupportedNode: (n: ONode, why?: string) => never
}

const BIG = 2 ** 31 - 1

/**
 * nn.Embedding as torch exports it: `Gather(input, k, axis=1)` (x[:, k]), `Cast(to=INT64)` (.long()),
 * `Gather(<table>, index)` (the lookup), `Slice(input, a, b, axes=[1])` (x[:, a:b]) and `Concat(…, axis=1)`.
 * A lookup of columns x[:, a:b] is [N, b − a, dim], one embedding per column, until `Flatten(axis=1)` (or a
 * Reshape to [N, −1]) lays them side by side, as the module-source and TorchScript readers read it.
 * Records what each output is in `parts`; an embedding or a slice used as a tensor is the model's input
 * concatenation (the `embedcat` step, folded into the first Linear by ir/foldEmbedding.ts). False for any
 * other node.
 */
export function mapInputPartOp(n: ONode, op: string, a: Map<string, OAttr>, env: InputPartEnv): boolean {
  const ins = n.input ?? []
  const out = (n.output ?? [])[0]
  if (!out) return false
  const axis = a.get('axis')?.i === undefined ? 0 : Number(a.get('axis')!.i)
  const intOf = (name: string | undefined) => (name && env.isConst(name) ? Number(env.constTensor(name).data[0]) : undefined)
  const set = (p: InputPart) => {
    env.parts.set(out, p)
    if (p.wide) return true // [N, k, dim]: a tensor only once flattened
    const pieces: EmbedPiece[] | undefined = p.embed ?? (p.cols && !p.cols.single ? [{ kind: 'columns', from: p.cols.from, ...(p.cols.to === undefined ? {} : { to: p.cols.to }) }] : undefined)
    if (pieces) env.stepsOf.set(out, [{ op: 'embedcat', pieces, name: n.name || op }])
    return true
  }
  if (op === 'Gather' && ins[0] === env.input && axis === 1) {
    const k = intOf(ins[1])
    if (k === undefined || !Number.isInteger(k) || k < 0 || env.constTensor(ins[1]!).shape.length !== 0) return false
    return set({ cols: { from: k, to: k + 1, single: true } })
  }
  if (op === 'Slice' && ins[0] === env.input) {
    const [from, to, ax, step] = [intOf(ins[1]), intOf(ins[2]), intOf(ins[3]), ins[4] ? intOf(ins[4]) : 1]
    if (from === undefined || to === undefined || ax !== 1 || step !== 1 || from < 0) env.unsupportedNode(n, 'only x[:, a:b] (columns of the input, step 1) is supported')
    return set({ cols: { from, ...(to >= BIG ? {} : { to }), single: false } })
  }
  if ((op === 'Cast' || op === 'Identity') && env.parts.has(ins[0]!)) return set(env.parts.get(ins[0]!)!)
  if (op === 'Gather' && env.hasInitializer(ins[0]!) && env.parts.has(ins[1]!)) {
    const col = env.parts.get(ins[1]!)!.cols
    if (!col || col.to === undefined || axis !== 0) env.unsupportedNode(n, 'an embedding lookup takes one column of the input, x[:, k], or columns x[:, a:b]')
    const table = ins[0]!
    const name = table.endsWith('.weight') ? table.slice(0, -'.weight'.length) : table
    env.tensors.set(`${name}.weight`, env.constTensor(table))
    const embed: EmbedPiece[] = []
    for (let k = col.from; k < col.to; k++) embed.push({ kind: 'embedding', name, column: k })
    return set({ embed, ...(col.single ? {} : { wide: true as const }) })
  }
  // emb(x[:, a:b].long()).flatten(1) (Flatten, axis 1) or .reshape(n, -1) with a constant shape: side by side
  if ((op === 'Flatten' || op === 'Reshape') && env.parts.get(ins[0]!)?.wide) {
    const p = env.parts.get(ins[0]!)!
    const shape = op === 'Reshape' && env.isConst(ins[1]) ? env.constTensor(ins[1]!).data : undefined
    const dim = env.tensors.get(`${(p.embed![0] as { name: string }).name}.weight`)!.shape[1]!
    const flat = op === 'Flatten' ? (a.get('axis') === undefined ? 1 : axis) === 1 : shape?.length === 2 && (shape[1] === -1 || shape[1] === p.embed!.length * dim)
    if (!flat) env.unsupportedNode(n, "an nn.Embedding's lookup of several columns is [N, columns, dim]: only its flatten to [N, columns × dim] is read (e.flatten(1))")
    return set({ embed: p.embed! })
  }
  if (op === 'Concat' && ins.some((i) => env.parts.has(i))) {
    if (axis !== 1 && axis !== -1) env.unsupportedNode(n, 'embeddings are concatenated along the features (dim=1)')
    const pieces = ins.map((i) => {
      const p = env.parts.get(i)
      if (p?.wide) return env.unsupportedNode(n, "an nn.Embedding's lookup of several columns is [N, columns, dim]: flatten it (e.flatten(1)) before torch.cat")
      if (p?.embed) return p.embed
      if (p?.cols && !p.cols.single) return [{ kind: 'columns' as const, from: p.cols.from, ...(p.cols.to === undefined ? {} : { to: p.cols.to }) }]
      if (i === env.input) return [{ kind: 'columns' as const, from: 0 }]
      return env.unsupportedNode(n, `it concatenates '${i}' with embeddings; only embeddings of input columns and slices of the input are supported`)
    })
    return set({ embed: pieces.flat() })
  }
  return false
}

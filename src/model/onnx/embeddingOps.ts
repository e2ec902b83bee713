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
    if (!col?.single || axis !== 0) env.unsupportedNode(n, 'an embedding lookup takes one column of the input, x[:, k]')
    const table = ins[0]!
    const name = table.endsWith('.weight') ? table.slice(0, -'.weight'.length) : table
    env.tensors.set(`${name}.weight`, env.constTensor(table))
    return set({ embed: [{ kind: 'embedding', name, column: col.from }] })
  }
  if (op === 'Concat' && ins.some((i) => env.parts.has(i))) {
    if (axis !== 1 && axis !== -1) env.unsupportedNode(n, 'embeddings are concatenated along the features (dim=1)')
    const pieces = ins.map((i) => {
      const p = env.parts.get(i)
      if (p?.embed) return p.embed
      if (p?.cols && !p.cols.single) return [{ kind: 'columns' as const, from: p.cols.from, ...(p.cols.to === undefined ? {} : { to: p.cols.to }) }]
      if (i === env.input) return [{ kind: 'columns' as const, from: 0 }]
      return env.unsupportedNode(n, `it concatenates '${i}' with embeddings; only embeddings of input columns and slices of the input are supported`)
    })
    return set({ embed: pieces.flat() })
  }
  return false
}

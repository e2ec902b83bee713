import { ModelError } from '../errors/base.ts'
import type { LayerInput } from './layerInput.ts'
import type { DenseLayer, Head, ModelIR, Task } from './types.ts'

/**
 * A multi-output model on chain: the heads' values (each a layer's output, or the shared value itself)
 * are concatenated by one last layer, `heads`, with identity weights and no activation. In fixed point it
 * is exact: weight 2^s, bias 2^(s−1) (the half-ulp), so (x·2^s + 2^(s−1)) >> s = x. The contract then
 * returns one flat vector: head 0's outputs, then head 1's, … (`headsOf`), and every stage that handles a
 * one-output model (simulator, interval analysis, codegen, upload) handles it unchanged.
 */
export const HEADS_LAYER = 'heads'

/** The `heads` layer reading each head's end value, and the heads' names and widths. */
export function headsLayer(names: string[], ends: LayerInput[], widthOf: (v: number) => number, file: string): { layer: DenseLayer; heads: Head[] } {
  const values = ends.map((e, i) => {
    if (e.values.length !== 1)
      throw new ModelError(`output '${names[i]}' is ${e.op === 'add' ? 'a residual sum' : 'a torch.cat'} with no Linear after it`, { where: file, hint: 'each returned output must be a layer\'s output (a Linear, with an activation)' })
    return e.values[0]!
  })
  const heads = names.map((name, i) => ({ name, size: widthOf(values[i]!) }))
  const n = heads.reduce((a, h) => a + h.size, 0)
  const weight = Array.from({ length: n }, (_, j) => Array.from({ length: n }, (_, i) => (i === j ? 1 : 0)))
  const layer: DenseLayer = { name: HEADS_LAYER, weight, bias: new Array<number>(n).fill(0), activation: { kind: 'identity' }, input: { op: 'concat', values } }
  return { layer, heads }
}

/** Each head's slice of the output vector: where it starts and how wide it is. */
export type HeadSlice = Head & { offset: number }

/** The heads of a model (one head, `output`, spanning all outputs, for a one-output model). */
export function headsOf(model: { heads?: Head[] }, outputSize: number): HeadSlice[] {
  if (!model.heads?.length) return [{ name: 'output', size: outputSize, offset: 0 }]
  let offset = 0
  return model.heads.map((h) => {
    const s = { ...h, offset }
    offset += h.size
    return s
  })
}

/** The layer whose output a head is (the `heads` layer reads it; its own activation is identity); undefined: the model's input value. */
function headSource(model: ModelIR, head: HeadSlice): DenseLayer | undefined {
  const last = model.layers[model.layers.length - 1]!
  const v = last.name === HEADS_LAYER && model.heads ? last.input!.values[headsOf(model, 0).findIndex((h) => h.offset === head.offset)]! : model.layers.length
  return v > 0 ? model.layers[v - 1]! : undefined
}

/** A head's task: a one-output head ending in sigmoid is binary, wider heads are classes, else a value. */
export function headTaskOf(model: ModelIR, head: HeadSlice): Task {
  if (head.size > 1) return 'multiclass'
  return headSource(model, head)?.activation.kind === 'sigmoid' ? 'binary' : 'regression'
}

/** What a head's numbers are: probabilities (a softmax ends it), log-probabilities (log_softmax), else undefined. */
export function headReturnsOf(model: ModelIR, head: HeadSlice): 'probabilities' | 'log-probabilities' | undefined {
  const kind = headSource(model, head)?.activation.kind
  return kind === 'softmax' ? 'probabilities' : kind === 'log_softmax' ? 'log-probabilities' : undefined
}

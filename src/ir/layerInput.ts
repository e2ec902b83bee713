import type { Activation } from './activation.ts'

/**
 * The graph shape of a dense model, kept as small as it can be: values are numbered, 0 the model's input
 * (after a convolutional front, none allowed there) and k the output of `layers[k-1]` (after its
 * activation). A layer reads the previous value unless its `input` says otherwise:
 * - `{ op: 'concat', values: [k] }`: one earlier value (a branch that starts from a skipped value);
 * - `{ op: 'concat', values: [a, b, …] }`: torch.cat of those values, in that order, along the features;
 * - `{ op: 'add', values: [a, b, …] }`: their element-wise sum (a residual `h + f(h)`), all the same width.
 * `post`: an activation or norm applied to that vector before the layer reads it (`F.relu(h + f(h))`,
 * `self.ln(x + self.f(x))`, a BatchNorm after a torch.cat): computed in place where the vector is built.
 * Every value stays in memory on chain until the end of the row, so a skip costs no recomputation.
 */
export type LayerInput = { op: 'add' | 'concat'; values: number[]; post?: Activation }

/** `h + f(h)`, `cat(a, b)`: the expression a layer reads, for messages. */
export function describeInput(input: LayerInput, nameOf: (v: number) => string): string {
  const names = input.values.map(nameOf)
  const e = input.op === 'add' ? names.join(' + ') : names.length === 1 ? names[0]! : `cat(${names.join(', ')})`
  return input.post ? `${describePost(input.post)}(${e})` : e
}

/** `relu`, `layer_norm`, `batchnorm → relu`: the kinds of a post-join op, for messages. */
const describePost = (a: Activation): string => (a.kind === 'seq' ? a.ops.map(describePost).join(' → ') : a.kind === 'affine' ? 'batchnorm' : a.kind)

/** The values a layer reads (the previous one when `input` is absent). */
export const inputValues = (input: LayerInput | undefined, l: number): number[] => input?.values ?? [l]

/**
 * The vector layer `l` reads, from `values` (value k at index k): the previous value, one earlier value,
 * a concatenation, or an element-wise sum with `add` (floats, BigInts, interval bounds alike), then
 * `post` (the input's activation or norm, by the caller's rule: float, fixed or interval).
 */
export function joinInput<T>(input: LayerInput | undefined, l: number, values: T[][], add: (a: T, b: T) => T, post?: (v: T[], a: Activation) => T[]): T[] {
  if (!input) return values[l]!
  const parts = input.values.map((v) => values[v]!)
  const joined = input.op === 'concat' ? (parts.length === 1 ? parts[0]! : parts.flat()) : parts[0]!.map((x, i) => parts.slice(1).reduce((s, p) => add(s, p[i]!), x))
  if (!input.post) return joined
  if (!post) throw new Error(`joinInput: a ${input.post.kind} after the join needs its rule`)
  return post(joined, input.post)
}

/** The width of what layer `l` reads, given every value's width (undefined: an add of unequal widths). */
export function inputWidth(input: LayerInput | undefined, l: number, widths: number[]): number | undefined {
  const ws = inputValues(input, l).map((v) => widths[v]!)
  if (input?.op === 'add') return ws.every((w) => w === ws[0]) ? ws[0] : undefined
  return ws.reduce((a, b) => a + b, 0)
}

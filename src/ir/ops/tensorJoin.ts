import { ModelError } from '../../errors/base.ts'
import { shapeText } from '../tensorShapes.ts'

/**
 * The two graph ops on conv tensors ([C, ...spatial], flat in C order), every face side by side:
 * - `add`: a residual sum `conv2(h) + x` of tensors of one shape (no broadcasting);
 * - `concat`: `torch.cat([a, b], dim=1)`, along the channels: the same spatial size, channels one after
 *   another. In C order (channel-major) that is the flat arrays one after another.
 *
 * Fixed point: every tensor value is at the one activation scale (2^F or 10^d): a conv's accumulator is
 * shifted back to it, a pool and an activation keep it, and makePlan keeps the model's input at it too
 * whenever a layer other than the first reads the input (graphReadsInput). So the twin of `a + b` is the
 * integer sum, exact, and a concat moves words. The one thing that can go wrong is 256-bit overflow of a
 * sum: the interval rule bounds it (the sum of the operands' bounds) and `check` refuses it.
 */
export type JoinKind = 'add' | 'concat'

/** The shape rule: `what` names the layer for the one-line refusal. */
export function joinShape(kind: JoinKind, shapes: number[][], what: string): number[] {
  const [first, ...others] = shapes
  if (!first || others.length === 0) throw new ModelError(`${what}: a ${kind} needs two tensors or more`)
  if (kind === 'add') {
    const bad = others.find((s) => shapeText(s) !== shapeText(first))
    if (bad)
      throw new ModelError(`${what}: a residual add of a ${shapeText(first)} and a ${shapeText(bad)} tensor (broadcasting is not supported)`, {
        hint: 'the skip must have the shape of the branch: use a 1×1 conv (downsample) on the skip where they differ',
      })
    return [...first]
  }
  const bad = others.find((s) => s.length !== first.length || shapeText(s.slice(1)) !== shapeText(first.slice(1)))
  if (bad)
    throw new ModelError(`${what}: torch.cat of a ${shapeText(first)} and a ${shapeText(bad)} tensor along the channels (dim=1): the spatial sizes differ`, {
      hint: 'ml2sc concatenates conv tensors along the channels only (dim=1), with equal spatial sizes',
    })
  return [shapes.reduce((c, s) => c + s[0]!, 0), ...first.slice(1)]
}

/** The float reference and the fixed-point twin (T = number or bigint): element-wise sum, or the parts in order. */
export function joinValues<T>(kind: JoinKind, parts: T[][], add: (a: T, b: T) => T): T[] {
  if (kind === 'concat') return parts.flat()
  return parts[0]!.map((x, i) => parts.slice(1).reduce((s, p) => add(s, p[i]!), x))
}

export const joinFloat = (kind: JoinKind, parts: number[][]): number[] => joinValues(kind, parts, (a, b) => a + b)

/** Exact: both operands are at the one activation scale (see above), so the sum needs no rescale. */
export const joinFixed = (kind: JoinKind, parts: bigint[][]): bigint[] => joinValues(kind, parts, (a, b) => a + b)

/**
 * The interval rule per channel (|value| ≤ bound): a sum's bound is the sum of the operands' bounds on that
 * channel; a concat's channels are each operand's channels, in order (their union).
 */
export const joinBound = (kind: JoinKind, chMax: bigint[][]): bigint[] => joinValues(kind, chMax, (a, b) => a + b)

/** A problem for sums up to these bounds (a 256-bit signed word holds |v| < 2^255), else undefined. */
export function joinCheck(bound: bigint[]): string | undefined {
  const top = bound.reduce((a, b) => (a > b ? a : b), 0n)
  return top >= 1n << 254n ? `the residual sum could reach ${top}, beyond 2^254` : undefined
}

/**
 * Estimated gas per output value on chain, memory growth included (measured on anvil with 8×8×8 tensors: a
 * two-operand add 67, a concat of two branches about 45; rounded up).
 */
export const joinGas = (kind: JoinKind, operands: number): number => (kind === 'add' ? 32 + 18 * operands : 46)

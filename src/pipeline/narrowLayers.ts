import { blobLayout } from '../codegen/weights/weightBlob.ts'
import { makePlan } from '../fixed/makePlan.ts'
import { weightWidthsOf, type Plan, type PrecisionSpec } from '../fixed/types.ts'
import type { ModelIR } from '../ir/types.ts'

/**
 * The lane words one row multiplies (one MUL + ADD each, and their load): a dense layer's nIn per lane
 * group, a conv's taps per lane group at every output position. The gas of the big models follows it.
 */
export function laneWordCount(plan: Plan): number[] {
  const conv = (plan.tensorLayers ?? []).flatMap((t) => {
    if (t.kind !== 'conv') return []
    const positions = t.outShape.slice(1).reduce((a, b) => a * b, 1)
    const outC = t.outShape[0]!
    const taps = t.weights.length / outC
    return [positions * taps * Math.ceil(outC / t.lanes)]
  })
  return [...conv, ...plan.layers.map((l) => l.nIn * Math.ceil(l.nOut / l.lanes))]
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)

/** All the lane words one row multiplies (laneWordCount summed): what per-layer widths and `fraction: auto` try to lower. */
export const laneWordsPerRow = (plan: Plan): number => sum(laneWordCount(plan))

/** Bytes of the `code` layout's PUSH constants: each lane word spans its group's lanes × spacing bits. */
const constantBytes = (plan: Plan): number =>
  sum(blobLayout(plan).layers.flatMap((l, i) => l.groups.map((g) => plan.layers[i]!.nIn * Math.ceil((g.lanes * g.spacing) / 8))))

/**
 * A plan is cheaper when it multiplies fewer lane words, or as many and stores fewer weight bytes (the
 * blob; with `code`, the lane words' PUSH constants, which a narrower width can spread over more bits).
 */
function cheaper(a: Plan, b: Plan, code: boolean): boolean {
  const [wa, wb] = [laneWordsPerRow(a), laneWordsPerRow(b)]
  const bytes = code ? constantBytes : (p: Plan) => blobLayout(p).length
  return wa < wb || (wa === wb && bytes(a) < bytes(b))
}

export type NarrowOptions = {
  /** Widths (bytes) a layer may take, narrowest first; `dense` for the dense layers, `conv` for the convs. */
  dense: number[]
  conv: number[]
  /** The gate: whether a plan keeps every class and every output within the tolerance on the calibration rows. */
  holds: (plan: Plan) => boolean
  progress?: (what: string) => void
  /** The `code` layout: weight bytes are counted as its PUSH constants (see cheaper). */
  code?: boolean
}

/**
 * Per-layer widths from a uniform plan that passes the gate: the layers are taken in order of their share
 * of the gas (lane words per row), largest first, and each is narrowed one width at a time (int16, int8,
 * int4) while the whole plan still passes the gate and gets cheaper; the others keep theirs. One simulator
 * pass per try, and a refused width ends that layer's tries: about one pass per layer plus one per step
 * taken. The result passes the gate (it is the uniform plan, or a plan the gate accepted). The uses of a
 * module applied several times are narrowed together, so that they stay one stored tensor.
 */
export function narrowLayers(model: ModelIR, spec: PrecisionSpec, uniform: Plan, o: NarrowOptions): { plan: Plan; tried: number } {
  let plan = uniform
  let widths = weightWidthsOf(uniform)
  const nConv = widths.length - uniform.layers.length
  const words = laneWordCount(uniform)
  const names = [...(uniform.tensorLayers ?? []).flatMap((t) => (t.kind === 'conv' ? [t.name] : [])), ...uniform.layers.map((l) => l.name)]
  // a module applied several times (DenseLayer.shares) is one stored tensor: its uses take one width together
  const root = (i: number) => (i < nConv ? i : nConv + (model.layers[i - nConv]!.shares ?? i - nConv))
  const uses = (i: number) => widths.map((_, j) => j).filter((j) => root(j) === root(i))
  const order = widths.map((_, i) => i).filter((i) => root(i) === i).sort((a, b) => words[b]! - words[a]! || a - b)
  let tried = 0
  for (const [k, i] of order.entries()) {
    const group = uses(i)
    // one step narrower at a time: a width the gate refuses ends the layer's steps (a narrower one would be worse)
    for (const w of (i < nConv ? o.conv : o.dense).filter((c) => c < widths[i]!).reverse()) {
      const next = widths.map((x, j) => (group.includes(j) ? w : x))
      let candidate: Plan
      try {
        candidate = makePlan(model, { ...spec, weightBytes: Math.max(...next), layerWeightBytes: next })
      } catch {
        continue // e.g. the layer's weights too large for the width at its input scale
      }
      if (!cheaper(candidate, plan, o.code === true)) continue
      tried++
      o.progress?.(`per-layer widths: layer ${k + 1} of ${order.length} ('${names[i]}', ${Math.round((100 * words[i]!) / sum(words))}% of the lane words) at int${8 * w}: do the calibration rows keep their classes and the tolerance?`)
      if (!o.holds(candidate)) break
      plan = candidate
      widths = next
    }
  }
  return { plan, tried }
}

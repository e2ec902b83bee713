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

/** A plan is cheaper when it multiplies no more lane words and stores fewer weight bytes, or multiplies fewer. */
function cheaper(a: Plan, b: Plan): boolean {
  const [wa, wb] = [sum(laneWordCount(a)), sum(laneWordCount(b))]
  return wa < wb || (wa === wb && blobLayout(a).length < blobLayout(b).length)
}

export type NarrowOptions = {
  /** Widths (bytes) a layer may take, narrowest first; `dense` for the dense layers, `conv` for the convs. */
  dense: number[]
  conv: number[]
  /** The gate: whether a plan keeps every class and every output within the tolerance on the calibration rows. */
  holds: (plan: Plan) => boolean
  progress?: (what: string) => void
}

/**
 * Per-layer widths from a uniform plan that passes the gate: the layers are taken in order of their share
 * of the gas (lane words per row), largest first, and each is given the narrowest width below its own on
 * which the whole plan still passes the gate and is cheaper; the others keep theirs. One simulator pass
 * per try: at most (weighted layers) × (narrower widths). The result passes the gate (it is the uniform
 * plan, or a plan the gate accepted).
 */
export function narrowLayers(model: ModelIR, spec: PrecisionSpec, uniform: Plan, o: NarrowOptions): { plan: Plan; tried: number } {
  let plan = uniform
  let widths = weightWidthsOf(uniform)
  const nConv = widths.length - uniform.layers.length
  const words = laneWordCount(uniform)
  const names = [...(uniform.tensorLayers ?? []).flatMap((t) => (t.kind === 'conv' ? [t.name] : [])), ...uniform.layers.map((l) => l.name)]
  const order = widths.map((_, i) => i).sort((a, b) => words[b]! - words[a]! || a - b)
  let tried = 0
  for (const [k, i] of order.entries()) {
    for (const w of (i < nConv ? o.conv : o.dense).filter((c) => c < widths[i]!)) {
      const next = widths.map((x, j) => (j === i ? w : x))
      let candidate: Plan
      try {
        candidate = makePlan(model, { ...spec, weightBytes: Math.max(...next), layerWeightBytes: next })
      } catch {
        continue // e.g. the layer's weights too large for the width at its input scale
      }
      if (!cheaper(candidate, plan)) continue
      tried++
      o.progress?.(`per-layer widths: layer ${k + 1} of ${order.length} ('${names[i]}', ${Math.round((100 * words[i]!) / sum(words))}% of the lane words) at int${8 * w}: do the calibration rows keep their classes and the tolerance?`)
      if (!o.holds(candidate)) continue
      plan = candidate
      widths = next
      break
    }
  }
  return { plan, tried }
}

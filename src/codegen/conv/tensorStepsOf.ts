import type { Plan } from '../../fixed/types.ts'
import type { ConvPlan, PoolPlan } from '../../fixed/tensorPlanTypes.ts'
import { gridOf } from '../../fixed/window.ts'
import { denseAsConv, type ConvStep, type Pad4, type PoolStep, type TensorStep, type WindowStep } from './convTypes.ts'

/** Whether the plan is a convolutional model's (its contract runs the tensor kernels). */
export const isTensorPlan = (plan: Plan): boolean => (plan.tensorLayers?.length ?? 0) > 0

/** Padding per side; a 1-D layer is 2-D with height 1 (padding along W only). */
function padOf(p: { inShape: number[]; padBegin: number[]; padEnd: number[] }): Pad4 {
  if (p.inShape.length === 3) return { top: p.padBegin[0]!, bottom: p.padEnd[0]!, left: p.padBegin[1]!, right: p.padEnd[1]! }
  return { top: 0, bottom: 0, left: p.padBegin[0]!, right: p.padEnd[0]! }
}

/** The window geometry of a conv or pool layer, as the kernels read it. */
function windowOf(l: ConvPlan | PoolPlan): WindowStep {
  const g = gridOf(l)
  return {
    name: l.name,
    inShape: { c: g.inC, h: g.inH, w: g.inW },
    outShape: { c: g.outC, h: g.outH, w: g.outW },
    kh: g.kH,
    kw: g.kW,
    sh: g.sH,
    sw: g.sW,
    dh: g.dH,
    dw: g.dW,
    pad: padOf(l),
  }
}

function convStep(l: ConvPlan): ConvStep {
  const g = gridOf(l)
  const cinPer = g.inC / l.groups
  const weights = Array.from({ length: g.outC }, (_, o) =>
    Array.from({ length: cinPer }, (_, c) => Array.from({ length: g.kH }, (_, y) => Array.from({ length: g.kW }, (_, x) => l.weights[((o * cinPer + c) * g.kH + y) * g.kW + x]!))),
  )
  return {
    kind: 'conv',
    ...windowOf(l),
    groups: l.groups,
    weights,
    biases: l.biases,
    wShift: l.wShift,
    laneBits: l.laneBits,
    lanes: l.lanes,
    activation: l.activation,
    slopeQ: l.slopeQ,
    accMax: l.accMax,
    ...(l.weightBytes === undefined ? {} : { weightBytes: l.weightBytes }),
  }
}

function poolStep(l: PoolPlan): PoolStep {
  return {
    kind: l.kind,
    ...windowOf(l),
    countIncludePad: l.countIncludePad,
    ...(l.spans ? { spans: l.spans } : {}),
    activation: l.activation,
    slopeQ: l.slopeQ,
  }
}

/**
 * A convolutional plan as the kernels' steps: its conv/pool layers, then each dense layer as a 1×1 conv. A
 * multi-output model's dense layer that reads other values (a head's first layer, the `heads` layer) reads
 * tensors nT + v (value 0: the stack's flattened output; value k: dense layer k−1's), concatenated.
 */
export function tensorStepsOf(plan: Plan): TensorStep[] {
  const nT = plan.tensorLayers?.length ?? 0
  const dense = plan.layers.map((l): ConvStep => {
    if (!l.input) return denseAsConv(l)
    if (l.input.op !== 'concat' || l.input.post) throw new Error(`unreachable: layer '${l.name}' reads a ${l.input.op}${l.input.post ? ' with a post op' : ''} after a conv stack`)
    return { ...denseAsConv(l), reads: l.input.values.map((v) => nT + v) }
  })
  return [...(plan.tensorLayers ?? []).map((l) => (l.kind === 'conv' ? convStep(l) : poolStep(l))), ...dense]
}

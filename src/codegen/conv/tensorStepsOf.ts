import type { Plan } from '../../fixed/types.ts'
import type { ConvPlan, PoolPlan } from '../../fixed/tensorPlanTypes.ts'
import { gridOf } from '../../ir/window.ts'
import { denseAsConv, NO_PAD, type ConvStep, type JoinStep, type Pad4, type PoolStep, type Shape3, type TensorStep, type WindowStep } from './convTypes.ts'
import { isJoin, tensorInputOf } from '../../ir/tensorTypes.ts'

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

/** A join of earlier tensors as the kernels' step: the identity window over its output shape. */
function joinStep(name: string, kind: 'add' | 'concat', reads: number[], shape: Shape3, l: { activation: JoinStep['activation']; slopeQ: bigint }): JoinStep {
  return { kind, name, reads, inShape: shape, outShape: shape, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, pad: NO_PAD, activation: l.activation, slopeQ: l.slopeQ }
}

const samePad = (a: Pad4, b: Pad4) => a.top === b.top && a.bottom === b.bottom && a.left === b.left && a.right === b.right

const shape3 = (shape: number[]): Shape3 => (shape.length === 3 ? { c: shape[0]!, h: shape[1]!, w: shape[2]! } : { c: shape[0]!, h: 1, w: shape[1]! })

/**
 * A convolutional plan as the kernels' steps: its conv/pool layers, then each dense layer as a 1×1 conv. A
 * multi-output model's dense layer that reads other values (a head's first layer, the `heads` layer) reads
 * tensors nT + v (value 0: the stack's flattened output; value k: dense layer k−1's), concatenated.
 * A graph's residual add / channel concat becomes a JoinStep on the tensors of its values; a conv or pool
 * that reads an earlier value (a second branch from a shared tensor) reads it in place when that tensor's halo
 * is its padding (a conv), else gets a copy of it just before it.
 */
export function tensorStepsOf(plan: Plan): TensorStep[] {
  const steps: TensorStep[] = []
  // tensor index of each value (0 the input, k tensor layer k−1's output)
  const tensorOf = [0]
  ;(plan.tensorLayers ?? []).forEach((l, k) => {
    if (isJoin(l)) {
      steps.push(joinStep(l.name, l.kind, l.values.map((v) => tensorOf[v]!), shape3(l.outShape), l))
      return void tensorOf.push(steps.length)
    }
    const src = tensorOf[tensorInputOf(l, k)]!
    // the first conv reads the decoded calldata: its values lie in the input type's range
    const step: TensorStep = l.kind === 'conv' ? { ...convStep(l), ...(k === 0 ? { inRange: [plan.inputMin, plan.inputMax] as [bigint, bigint] } : {}) } : poolStep(l)
    // a conv reading an earlier tensor whose halo (set by the step right after it) is its own padding reads it in place
    const next = steps[src]
    if (src !== steps.length && step.kind === 'conv' && next && next.kind !== 'maxpool' && samePad(next.pad, step.pad)) steps.push({ ...step, reads: [src] })
    else {
      if (src !== steps.length) steps.push(joinStep(`${l.name} input`, 'concat', [src], shape3(l.inShape), { activation: { kind: 'identity' }, slopeQ: 0n }))
      steps.push(step)
    }
    tensorOf.push(steps.length)
  })
  const nT = steps.length
  const dense = plan.layers.map((l): ConvStep => {
    if (!l.input) return denseAsConv(l)
    if (l.input.op !== 'concat' || l.input.post) throw new Error(`unreachable: layer '${l.name}' reads a ${l.input.op}${l.input.post ? ' with a post op' : ''} after a conv stack`)
    return { ...denseAsConv(l), reads: l.input.values.map((v) => nT + v) }
  })
  return [...steps, ...dense]
}

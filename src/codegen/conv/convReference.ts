import { opOf } from '../../ir/ops/index.ts'
import type { Plan } from '../../fixed/types.ts'
import { isJoinStep, type ConvStep, type PoolStep, type TensorStep } from './convTypes.ts'
import { avgDivide } from './poolYul.ts'
import { joinRef } from './joinYul.ts'
import { spanWindows } from '../../ir/poolSpans.ts'

/**
 * What the tensor kernels compute, in BigInt, straight from the definitions (no lanes): the kernels'
 * own check. Tensors are C-order flat arrays.
 */
export function convNetReference(steps: TensorStep[], plan: Pick<Plan, 'scale' | 'slopeBits'>, input: bigint[]): bigint[] {
  // every tensor so far (a multi-output model's dense steps read earlier ones: ConvStep.reads)
  const tensors = [input]
  for (const s of steps) {
    if (isJoinStep(s)) {
      tensors.push(joinRef(s, plan, s.reads.map((r) => tensors[r]!)))
      continue
    }
    const x = s.kind === 'conv' && s.reads ? s.reads.flatMap((r) => tensors[r]!) : tensors[tensors.length - 1]!
    tensors.push(s.kind === 'conv' ? convRef(s, plan, x) : poolRef(s, plan, x))
  }
  return tensors[tensors.length - 1]!
}

function convRef(s: ConvStep, plan: Pick<Plan, 'scale' | 'slopeBits'>, x: bigint[]): bigint[] {
  const { c: C, h: H, w: W } = s.inShape
  const { c: OC, h: OH, w: OW } = s.outShape
  const cinPer = C / s.groups
  const coutPer = OC / s.groups
  const y: bigint[] = []
  for (let oc = 0; oc < OC; oc++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        let acc = s.biases[oc]!
        const g = Math.floor(oc / coutPer)
        for (let ci = 0; ci < cinPer; ci++)
          for (let ky = 0; ky < s.kh; ky++)
            for (let kx = 0; kx < s.kw; kx++) {
              const iy = oy * s.sh + ky * s.dh - s.pad.top
              const ix = ox * s.sw + kx * s.dw - s.pad.left
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue
              acc += s.weights[oc]![ci]![ky]![kx]! * x[((g * cinPer + ci) * H + iy) * W + ix]!
            }
        y.push(acc >> BigInt(s.wShift))
      }
  return activate(y, s, plan)
}

function activate(y: bigint[], s: { activation: ConvStep['activation']; slopeQ: bigint }, plan: Pick<Plan, 'scale' | 'slopeBits'>): bigint[] {
  return opOf(s.activation).fixed(y, s.activation, s.slopeQ, plan)
}

function poolRef(s: PoolStep, plan: Pick<Plan, 'scale' | 'slopeBits'>, x: bigint[]): bigint[] {
  const { c: C, h: H, w: W } = s.inShape
  const { h: OH, w: OW } = s.outShape
  const y: bigint[] = []
  if (s.spans) {
    // ceil_mode / adaptive windows: each output position's own window and divisor
    const windows = spanWindows(s.spans, W)
    for (let c = 0; c < C; c++)
      for (const { offsets, div } of windows) {
        const vs = offsets.map((o) => x[c * H * W + o]!)
        y.push(s.kind === 'maxpool' ? vs.reduce((a, b) => (b > a ? b : a)) : avgDivide(vs.reduce((a, b) => a + b, 0n), div))
      }
    return activate(y, s, plan)
  }
  for (let c = 0; c < C; c++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        let m: bigint | undefined
        let sum = 0n
        let n = 0
        for (let ky = 0; ky < s.kh; ky++)
          for (let kx = 0; kx < s.kw; kx++) {
            const iy = oy * s.sh + ky * s.dh - s.pad.top
            const ix = ox * s.sw + kx * s.dw - s.pad.left
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue
            const v = x[(c * H + iy) * W + ix]!
            if (m === undefined || v > m) m = v
            sum += v
            n++
          }
        y.push(s.kind === 'maxpool' ? m! : avgDivide(sum, s.countIncludePad ? s.kh * s.kw : n))
      }
  return activate(y, s, plan)
}

import type { ConvPlan, JoinPlan, PoolPlan, TensorLayerPlan } from '../fixed/tensorPlanTypes.ts'

/** A conv/pool layer plan as JSON: bigints as decimal strings (see planJson.ts). */
export type TensorLayerPlanJson =
  | (Omit<ConvPlan, 'weights' | 'biases' | 'slopeQ' | 'accMax' | 'outMax'> & { weights: string[]; biases: string[]; slopeQ: string; accMax: string; outMax: string[] })
  | (Omit<PoolPlan, 'slopeQ' | 'outMax'> & { slopeQ: string; outMax: string[] })
  | (Omit<JoinPlan, 'slopeQ' | 'outMax'> & { slopeQ: string; outMax: string[] })

const s = (v: bigint) => v.toString()

export function tensorLayersToJson(layers: TensorLayerPlan[]): TensorLayerPlanJson[] {
  return layers.map((l) =>
    l.kind === 'conv'
      ? { ...l, weights: l.weights.map(s), biases: l.biases.map(s), slopeQ: s(l.slopeQ), accMax: s(l.accMax), outMax: l.outMax.map(s) }
      : { ...l, slopeQ: s(l.slopeQ), outMax: l.outMax.map(s) },
  )
}

export function tensorLayersFromJson(layers: TensorLayerPlanJson[]): TensorLayerPlan[] {
  return layers.map((l): TensorLayerPlan =>
    l.kind === 'conv'
      ? { ...l, weights: l.weights.map(BigInt), biases: l.biases.map(BigInt), slopeQ: BigInt(l.slopeQ), accMax: BigInt(l.accMax), outMax: l.outMax.map(BigInt) }
      : { ...l, slopeQ: BigInt(l.slopeQ), outMax: l.outMax.map(BigInt) },
  )
}

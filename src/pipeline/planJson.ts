import type { LayerPlan, Plan } from '../fixed/types.ts'

/** A Plan as JSON: every bigint as a decimal string (JSON has no 256-bit integers). */
export type PlanJson = Omit<Plan, 'scale' | 'inputMin' | 'inputMax' | 'layers' | 'tensorLayers'> & {
  /** Conv/pool layers with their bigint fields (weights, biases, slopeQ, accMax, outMax) as decimal strings. */
  tensorLayers?: Record<string, unknown>[]
  scale: string
  inputMin: string
  inputMax: string
  layers: (Omit<LayerPlan, 'weights' | 'biases' | 'slopeQ' | 'accMax' | 'outMax'> & {
    weights: string[][]
    biases: string[]
    slopeQ: string
    accMax: string
    outMax: string[]
  })[]
}

const s = (v: bigint) => v.toString()

/** The bigint fields of a conv/pool layer plan (tensorPlanTypes.ts), each a bigint or a bigint[]. */
const TENSOR_BIG = ['weights', 'biases', 'slopeQ', 'accMax', 'outMax']
const mapTensor = (l: object, f: (v: never) => unknown) =>
  Object.fromEntries(Object.entries(l).map(([k, v]) => [k, TENSOR_BIG.includes(k) ? (Array.isArray(v) ? v.map((x) => f(x as never)) : f(v as never)) : v]))

export function planToJson(plan: Plan): PlanJson {
  return {
    ...plan,
    scale: s(plan.scale),
    inputMin: s(plan.inputMin),
    inputMax: s(plan.inputMax),
    ...(plan.tensorLayers ? { tensorLayers: plan.tensorLayers.map((l) => mapTensor(l, (v: bigint) => s(v))) } : {}),
    layers: plan.layers.map((l) => ({
      ...l,
      weights: l.weights.map((row) => row.map(s)),
      biases: l.biases.map(s),
      slopeQ: s(l.slopeQ),
      accMax: s(l.accMax),
      outMax: l.outMax.map(s),
    })),
  }
}

export function planFromJson(j: PlanJson): Plan {
  return <Plan>{
    ...j,
    scale: BigInt(j.scale),
    inputMin: BigInt(j.inputMin),
    inputMax: BigInt(j.inputMax),
    ...(j.tensorLayers ? { tensorLayers: j.tensorLayers.map((l) => mapTensor(l, (v: string) => BigInt(v))) as unknown as Plan['tensorLayers'] } : {}),
    layers: j.layers.map((l) => ({
      ...l,
      weights: l.weights.map((row) => row.map((v) => BigInt(v))),
      biases: l.biases.map((v) => BigInt(v)),
      slopeQ: BigInt(l.slopeQ),
      accMax: BigInt(l.accMax),
      outMax: l.outMax.map((v) => BigInt(v)),
    })),
  }
}

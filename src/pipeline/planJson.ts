import type { AttentionPlan } from '../fixed/attentionPlanTypes.ts'
import type { RecurrentPlan } from '../fixed/recurrentPlanTypes.ts'
import type { LayerPlan, Plan } from '../fixed/types.ts'
import { tensorLayersFromJson, tensorLayersToJson, type TensorLayerPlanJson } from './tensorPlanJson.ts'

/** A Plan as JSON: every bigint as a decimal string (JSON has no 256-bit integers). */
export type PlanJson = Omit<Plan, 'scale' | 'inputMin' | 'inputMax' | 'layers' | 'tensorLayers' | 'recurrent' | 'attention'> & {
  tensorLayers?: TensorLayerPlanJson[]
  /** A sequence model's GRU/LSTM plan, its integers as `"<decimal>n"` strings. */
  recurrent?: unknown
  /** An attention model's plan, the same way. */
  attention?: unknown
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
const bigToJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x)))
const bigFromJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v), (_k, x) => (typeof x === 'string' && /^-?\d+n$/.test(x) ? BigInt(x.slice(0, -1)) : x))

export function planToJson(plan: Plan): PlanJson {
  const { tensorLayers: _t, recurrent: _r, attention: _a, ...rest } = plan
  return {
    ...(plan.attention ? { attention: bigToJson(plan.attention) } : {}),
    ...(plan.recurrent ? { recurrent: JSON.parse(JSON.stringify(plan.recurrent, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))) } : {}),
    ...rest,
    scale: s(plan.scale),
    inputMin: s(plan.inputMin),
    inputMax: s(plan.inputMax),
    ...(plan.tensorLayers ? { tensorLayers: tensorLayersToJson(plan.tensorLayers) } : {}),
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
  const { tensorLayers: _t, recurrent: _r, attention: _a, ...rest } = j
  return {
    ...(j.attention ? { attention: bigFromJson(j.attention) as AttentionPlan } : {}),
    ...(j.recurrent ? { recurrent: JSON.parse(JSON.stringify(j.recurrent), (_k, v) => (typeof v === 'string' && /^-?\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v)) as RecurrentPlan } : {}),
    ...rest,
    scale: BigInt(j.scale),
    inputMin: BigInt(j.inputMin),
    inputMax: BigInt(j.inputMax),
    ...(j.tensorLayers ? { tensorLayers: tensorLayersFromJson(j.tensorLayers) } : {}),
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

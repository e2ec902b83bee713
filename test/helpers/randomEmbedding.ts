// A deterministic random model with nn.Embedding columns (the IR as the readers leave it: each table already
// folded into the first Linear, one weight column per category, in ir/categorical.ts's expanded layout),
// for the gather's differential fuzz and forgery tests; and random rows for it at a plan's input scale.
import { expandedLayout, type CategoricalInput } from '../../src/ir/categorical.ts'
import { inputScaleOf, type Plan } from '../../src/fixed/types.ts'
import type { Activation, ModelIR } from '../../src/ir/types.ts'
import { rng } from './rng.ts'

export type EmbeddingSpec = {
  /** CSV feature columns in all. */
  inputs: number
  /** [column, categories] of each categorical column. */
  cats: [number, number][]
  /** Widths of the dense layers after the input (the first reads the expanded input). */
  sizes: number[]
  acts: Activation[]
  /** Scale of the folded columns against the numeric ones (a table's rows are often larger). */
  foldScale?: number
}

export function randomEmbeddingModel(spec: EmbeddingSpec, seed: number): ModelIR {
  const r = rng(seed)
  const categorical: CategoricalInput[] = spec.cats.map(([column, count], k) => ({ column, count, name: `emb${k}` }))
  const { size, numeric } = expandedLayout(spec.inputs, categorical)
  const widths = [size, ...spec.sizes]
  return {
    format: 'synthetic',
    inputSize: spec.inputs,
    categorical,
    layers: spec.sizes.map((n, l) => ({
      name: `fc${l + 1}`,
      weight: Array.from({ length: n }, () => Array.from({ length: widths[l]! }, (_, i) => ((r() * 2 - 1) / Math.sqrt(widths[l]!)) * (l === 0 && i >= numeric ? (spec.foldScale ?? 3) : 1))),
      bias: Array.from({ length: n }, () => r() * 0.4 - 0.2),
      activation: spec.acts[l]!,
    })),
  }
}

/**
 * `n` rows at the plan's input scale: each categorical feature a random category (the first and last ones
 * often), each numeric feature uniform in a random share of the safe range (the extremes now and then).
 */
export function randomEmbeddingRows(plan: Plan, n: number, seed: number): bigint[][] {
  const r = rng(seed)
  const S = inputScaleOf(plan)
  const span = plan.inputMax - plan.inputMin
  return Array.from({ length: n }, () =>
    Array.from({ length: plan.inputSize }, (_, i) => {
      const cat = plan.categorical!.find((c) => c.column === i)
      if (cat) {
        const u = r()
        return BigInt(u < 0.15 ? 0 : u < 0.3 ? cat.count - 1 : Math.floor(r() * cat.count)) * S
      }
      const u = r()
      if (u < 0.05) return plan.inputMin
      if (u < 0.1) return plan.inputMax
      // a share 2^-k of the range around zero (or its low end for unsigned inputs)
      const k = BigInt(Math.floor(r() * 12))
      const w = span >> k
      const lo = plan.inputMin === 0n ? 0n : -(w >> 1n)
      const v = lo + (BigInt(Math.floor(r() * 2 ** 30)) * w) / 2n ** 30n
      return v < plan.inputMin ? plan.inputMin : v > plan.inputMax ? plan.inputMax : v
    }),
  )
}

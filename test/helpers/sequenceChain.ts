// Shared by the sequence-model fuzz files (test/fuzz/recurrent-differential.test.ts, attention-differential.test.ts):
// input windows over a plan's safe range, and one model's contract on chain against the BigInt twin.
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import type { Plan } from '../../src/fixed/types.ts'
import { deployCnn } from './deployCnn.ts'
import { rng } from './rng.ts'

/** Windows in the safe range, by turns: uniform ±3, wide ±50 (clamped), the range's extremes, mostly zeros. */
export function windows(plan: Plan, n: number, seed: number): bigint[][] {
  const r = rng(seed)
  const S = Number(plan.scale)
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: plan.inputSize }, () => {
      const kind = i % 4
      if (kind === 0) return BigInt(Math.round((r() * 2 - 1) * 3 * S))
      if (kind === 1) { const v = BigInt(Math.round((r() * 2 - 1) * 50 * S)); return v > plan.inputMax ? plan.inputMax : v < plan.inputMin ? plan.inputMin : v }
      if (kind === 2) return r() < 0.5 ? plan.inputMin : plan.inputMax
      return r() < 0.8 ? 0n : BigInt(Math.round((r() * 2 - 1) * S))
    }),
  )
}

/** Deploys the plan's contract as `name`, runs the rows through predictBatch (8 a transaction) and the first
 * through predict, each against simulate(); returns the mismatching batch rows, the first row's outputs from
 * predict and from the twin (as strings), the gas of one predict transaction and the runtime code size. */
export async function chainVsTwin(s: ChainSession, plan: Plan, name: string, rows: bigint[][]) {
  const c = await deployCnn(s, plan, name)
  let mismatches = 0
  for (let at = 0; at < rows.length; at += 8) {
    const { outputs } = await c.batch(rows.slice(at, at + 8))
    outputs.forEach((o, k) => {
      if (o.map(String).join() !== simulate(plan, rows[at + k]!).map(String).join()) mismatches++
    })
  }
  const predicted = (await c.predict(rows[0]!)).map(String)
  const gas = await c.predictTxGas(rows[0]!)
  return { mismatches, predicted, twin: simulate(plan, rows[0]!).map(String), gas, runtimeBytes: c.compiled.runtimeBytes }
}

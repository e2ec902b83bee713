import { fusedPools } from '../codegen/conv/convNetYul.ts'
import type { ConvStep } from '../codegen/conv/convTypes.ts'
import { rowLanesOf } from '../codegen/conv/rowLanesPlan.ts'
import { tensorStepsOf } from '../codegen/conv/tensorStepsOf.ts'
import { makePlan } from '../fixed/makePlan.ts'
import { pinOf, specOf, type Plan } from '../fixed/types.ts'
import type { ModelIR } from '../ir/types.ts'

/** A conv's row lanes, when it runs on them (rowLanesPlan.ts), by the conv's name. */
function rowLanesByName(plan: Plan): Map<string, NonNullable<ReturnType<typeof rowLanesOf>>> {
  const steps = tensorStepsOf(plan)
  const fused = fusedPools(steps)
  const out = new Map<string, NonNullable<ReturnType<typeof rowLanesOf>>>()
  steps.forEach((s, i) => {
    const rl = s.kind === 'conv' ? rowLanesOf(steps, i, fused) : undefined
    if (rl) out.set((s as ConvStep).name, rl)
  })
  return out
}

/**
 * A conv on row lanes with a fused max pool takes the window's maximum on packed words. With a free top bit in
 * every lane, one SWAR compare per word keeps the running maximum on the stack; without it, the even and odd
 * lanes go apart through memory, about three times the gas per merge (rowLanesPlan.ts `oneCompare`). The first
 * conv's lanes are as wide as each channel's accumulator range over the input type (the weights' scale × the
 * pixels' range): when they miss that bit, one bit less of weight scale in that conv (its weights rounded at
 * 2^(e−1): 23 significant bits of an int24, say) halves every range and frees it. The cut is taken only when it
 * keeps as many lanes and `accepts` it on the calibration rows; the contract's pins (the conv's wShift, in
 * plan.json) rebuild it for verify and update.
 */
export function fitRowLanes(model: ModelIR, plan: Plan, accepts: (cut: Plan) => boolean, progress?: (what: string) => void): Plan {
  if (!plan.tensorLayers?.length) return plan
  let best = plan
  for (const [name, rl] of rowLanesByName(plan)) {
    if (rl.oneCompare !== false) continue
    const k = best.tensorLayers!.findIndex((l) => l.kind === 'conv' && l.name === name)
    const pin = pinOf(best)
    const tensor = JSON.parse(pin.tensor!) as unknown[]
    const conv = tensor[k] as number[]
    if (conv[0]! <= 1) continue
    tensor[k] = [conv[0]! - 1, ...conv.slice(1)]
    let cut: Plan
    try {
      cut = makePlan(model, specOf(best), { ...pin, tensor: JSON.stringify(tensor) })
    } catch {
      continue
    }
    const now = rowLanesByName(cut).get(name)
    if (!now || now.oneCompare === false || now.lanes < rl.lanes) continue
    progress?.(`conv '${name}': its weights one bit coarser free a compare bit in its ${now.lanes} row lanes: do the calibration rows accept it?`)
    if (accepts(cut)) best = cut
  }
  return best
}

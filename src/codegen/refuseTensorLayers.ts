import { ModelError } from '../errors/base.ts'
import type { Plan } from '../fixed/types.ts'

/** Until the on-chain conv/pool kernel exists: a convolutional plan stops here with one line. */
export function refuseTensorLayers(plan: Plan): void {
  const first = plan.tensorLayers?.[0]
  if (first)
    throw new ModelError(`convolutional layers are not compiled yet (first: ${first.kind} '${first.name}')`, {
      hint: '`ml2sc inspect` and `ml2sc predict --offchain` handle this model; the contract does not yet',
    })
}

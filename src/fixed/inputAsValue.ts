import type { Plan } from './types.ts'

/**
 * The model's input as value 0 of a graph model (a skip or concat from the input, ir/layerInput.ts): at
 * the activation scale like every other value. Inputs at their own scale 2^Fin are shifted by F − Fin:
 * left (exact) when the inputs are coarser, an arithmetic right shift (floor) when finer; the contract
 * does the same SHL/SAR. `shift` > 0 is a left shift.
 */
export const inputShiftOf = (plan: Pick<Plan, 'F' | 'decimals' | 'inputFraction'>): number =>
  plan.decimals === undefined && plan.inputFraction !== undefined ? plan.F - plan.inputFraction : 0

export function inputAsValue(plan: Pick<Plan, 'F' | 'decimals' | 'inputFraction'>, x: bigint[]): bigint[] {
  const d = inputShiftOf(plan)
  if (d === 0) return x
  return d > 0 ? x.map((v) => v << BigInt(d)) : x.map((v) => v >> BigInt(-d))
}

/** The interval rule of inputAsValue: a bound on |x| becomes a bound on |value 0|. */
export function inputBoundAsValue(plan: Pick<Plan, 'F' | 'decimals' | 'inputFraction'>, xMax: bigint[]): bigint[] {
  const d = inputShiftOf(plan)
  if (d === 0) return xMax
  return d > 0 ? xMax.map((v) => v << BigInt(d)) : xMax.map((v) => (v >> BigInt(-d)) + 1n)
}

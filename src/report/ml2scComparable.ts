import type { ModelIR, Task } from '../ir/types.ts'

/** ML2SC's re-measured gas per row for its 30-4-1 model (test/fixtures/ml2sc/PROVENANCE.md). */
export const ML2SC_GAS_PER_ROW_30_4_1 = 262_243

/** The largest hidden layer still compared with ML2SC's 30-4-1 (4 hidden units). */
export const ML2SC_COMPARABLE_HIDDEN = 16

/**
 * Whether a gas-per-row ratio against ML2SC's 30-4-1 means anything: the same kind of model, a dense (no conv)
 * binary classifier with ML2SC's 30 inputs, one output and one hidden layer of at most 16 units. Any other
 * model is reported in gas per parameter instead.
 */
export function ml2scComparable(model: ModelIR, task: Task): boolean {
  if (task !== 'binary' || model.inputSize !== 30 || model.tensorLayers?.length || model.layers.length !== 2) return false
  const [hidden, out] = model.layers
  return hidden!.weight.length <= ML2SC_COMPARABLE_HIDDEN && out!.weight.length === 1
}

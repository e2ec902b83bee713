import type { ModelIR, Task } from '../ir/types.ts'
import { interpret } from '../fixed/encodeRows.ts'
import { referenceForward } from '../fixed/referenceForward.ts'
import { simulateFeatures } from '../fixed/simulateBatch.ts'
import type { Plan } from '../fixed/types.ts'

/** The class of float outputs (after the model's last activation), as `interpret` reads the chain's. */
export function referenceClass(plan: Plan, task: Task, y: number[]): number {
  if (task === 'multiclass') return y.indexOf(Math.max(...y))
  const sigmoid = plan.layers[plan.layers.length - 1]!.activation.kind === 'sigmoid'
  return (sigmoid ? y[0]! > 0.5 : y[0]! > 0) ? 1 : 0
}

/**
 * Whether int8 weights may be considered at all, and the widths judged by precision.tolerance alone
 * (prepareModel.ts): a classifier whose outputs are only compared, not read as values. Models with sigmoid, tanh, softmax or leaky-relu layers keep their outputs within 1e-4 of
 * PyTorch at the default precision (issue 5's fidelity bound), which int8 weights cannot.
 */
export const int8Eligible = (model: ModelIR, task: Task) =>
  task !== 'regression' && model.layers.every((l) => l.activation.kind === 'relu' || l.activation.kind === 'identity')

/**
 * Whether `narrow` trades away no class against `wide` on the test rows: on every row where the chain's
 * class under `wide` (bit-exact simulator) is the reference's (PyTorch's outputs, data.reference, or else
 * the float forward pass), it is under `narrow` too. Classification only; rows outside either plan's safe
 * input range are not answered by either and are skipped.
 */
export function keepsClasses(model: ModelIR, task: Task, narrow: Plan, wide: Plan, rows: number[][], reference?: number[][]): boolean {
  if (task === 'regression') return false
  const [a, b] = [simulateFeatures(narrow, rows), simulateFeatures(wide, rows)]
  return rows.every((f, i) => {
    if (!a[i] || !b[i]) return true
    const ref = referenceClass(wide, task, reference?.[i] ?? referenceForward(model, f))
    return interpret(wide, task, b[i]) !== ref || interpret(narrow, task, a[i]) === ref
  })
}

import type { ArchStep } from '../../ir/types.ts'

/**
 * `a + b` or `torch.cat([a, b], dim=1)` in forward(): each operand is the steps from the input; the part
 * they share (the same step objects, in order) runs once, then a `join` step holds each operand's own
 * steps as a branch (an empty branch: the shared value itself, as `h` in `h + f(h)`).
 */
export function joinValues(kind: 'add' | 'concat', operands: ArchStep[][], name?: string): ArchStep[] {
  let shared = 0
  const shortest = Math.min(...operands.map((o) => o.length))
  while (shared < shortest && operands.every((o) => o[shared] === operands[0]![shared])) shared++
  const join: ArchStep = { op: 'join', kind, branches: operands.map((o) => o.slice(shared)), ...(name ? { name } : {}) }
  return [...operands[0]!.slice(0, shared), join]
}

import type { ArchStep } from '../../ir/types.ts'
import type { Node } from './expressions.ts'

/**
 * `a + b` or `torch.cat([a, b], dim=1)` in forward(): each operand is the steps from the input; the part
 * they share (the same step objects, in order) runs once, then a `join` step holds each operand's own
 * steps as a branch (an empty branch: the shared value itself, as `h` in `h + f(h)`).
 */
export function joinValues(kind: 'add' | 'concat', operands: ArchStep[][], name?: string, same = (a: ArchStep, b: ArchStep) => a === b): ArchStep[] {
  let shared = 0
  const shortest = Math.min(...operands.map((o) => o.length))
  while (shared < shortest && operands.every((o) => same(o[shared]!, operands[0]![shared]!))) shared++
  const join: ArchStep = { op: 'join', kind, branches: operands.map((o) => o.slice(shared)), ...(name ? { name } : {}) }
  return [...operands[0]!.slice(0, shared), join]
}

/** A torch.cat / Concat along dim −1 (the features of a vector; the last spatial axis of a conv tensor): the join marked so. */
export function alongDim(steps: ArchStep[], dim: unknown): ArchStep[] {
  const last = steps[steps.length - 1]
  if (dim === -1 && last?.op === 'join') last.dim = -1
  return steps
}

/**
 * `return logits, value`, or an ONNX graph's several outputs: the shared steps once, then a `heads` step with
 * each output's own steps as a branch. Names must differ (a repeated or missing name becomes `out<i>`).
 */
export function headValues(names: (string | undefined)[], operands: ArchStep[][]): ArchStep[] {
  // a GRU/LSTM's readout (an attention's pooling) is made a step where a Linear reads it, once per head: equal steps are the same value
  const [join] = joinValues('concat', operands, undefined, (a, b) => a === b || (isRecurrent(a) && JSON.stringify(a) === JSON.stringify(b))).slice(-1) as [Extract<ArchStep, { op: 'join' }>]
  const shared = operands[0]!.slice(0, operands[0]!.length - join.branches[0]!.length)
  // a name that is missing, repeated or not an identifier becomes out<i> (out<i>_2, … if that is taken too)
  const valid = names.map((n, i) => (n && /^[A-Za-z_][A-Za-z0-9_]*$/.test(n) && names.indexOf(n) === i ? n : undefined))
  const seen = new Set(valid.filter((n): n is string => !!n))
  const unique = valid.map((n, i) => {
    if (n) return n
    let name = `out${i}`
    for (let k = 2; seen.has(name); k++) name = `out${i}_${k}`
    seen.add(name)
    return name
  })
  return [...shared, { op: 'heads', names: unique, branches: join.branches }]
}

const isRecurrent = (s: ArchStep) => s.op === 'gru' || s.op === 'lstm' || s.op === 'mha' || s.op === 'seqpool'

/** A returned value's head name: the variable (`return logits, value`), or the module a call applies (`return self.next(h), self.up(h)`). */
export function headName(n: Node): string | undefined {
  if (n.k === 'name') return n.id
  return n.k === 'call' && n.fn.k === 'attr' && n.fn.obj.k === 'name' && n.fn.obj.id === 'self' ? n.fn.attr : undefined
}

import type { Activation } from '../activation.ts'
import type { FixedCtx, OpDef } from './types.ts'

type Seq = Extract<Activation, { kind: 'seq' }>
type Lookup = (a: Activation) => OpDef
const paramOf = (op: OpDef, a: Activation, c: FixedCtx) => op.param?.(a, c) ?? 0n

/**
 * Ops applied in turn where a value takes more than one: a norm then an activation (Linear → LayerNorm →
 * ReLU), an activation then a standalone BatchNorm, an activation and a norm on a residual sum. Every face is
 * its parts' in order; on chain each part runs over the vector in place (an element-wise op in a loop of
 * its expression). Made with the registry's lookup (ops/index.ts) so that this file imports no op.
 */
export function makeSeq(opOf: Lookup): OpDef<Seq> {
  const parts = (a: Seq) => a.ops.map((p) => ({ a: p, op: opOf(p) }))
  return {
    kind: 'seq',
    shape: 'vector',
    gas: 0,
    float: (y, a) => parts(a).reduce((v, { a: p, op }) => op.float(v, p), y),
    fixed: (y, a, _q, c) => parts(a).reduce((v, { a: p, op }) => op.fixed(v, p, paramOf(op, p, c), c), y),
    bound: (p, a, _q, c) => parts(a).reduce((b, { a: x, op }) => op.bound(b, x, paramOf(op, x, c), c), p),
    check: (p, a, _q, c) => {
      let b = p
      for (const { a: x, op } of parts(a)) {
        const q = paramOf(op, x, c)
        const problem = op.check?.(b, x, q, c)
        if (problem) return problem
        b = op.bound(b, x, q, c)
      }
      return undefined
    },
    // a part after another reads that part's output, not the lane-bounded accumulator: exp keeps its clamp
    expFactor: undefined,
    yul: {
      // the parts' helpers are collected with every other op's (codegen/dense/activationYul.ts: flatActivations)
      helpers: () => [],
      expr: (v) => v,
      vectorCall: (p, n, a, c) =>
        parts(a)
          .map(({ a: x, op }) => {
            if (op.shape === 'vector') return op.yul.vectorCall!(p, n, x, c)
            const e = op.yul.expr('v', paramOf(op, x, c))
            return `for { let q := ${p} let qe := add(${p}, ${32 * n}) } lt(q, qe) { q := add(q, 32) } { let v := mload(q) mstore(q, ${e}) }`
          })
          .join('\n                '),
    },
  }
}

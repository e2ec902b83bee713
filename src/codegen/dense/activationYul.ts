import type { Plan } from '../../fixed/types.ts'
import { expBase } from '../../ir/ops/exp.ts'
import { flatActivations, OPS, opOf, paramOf, type YulCtx, type YulHelper } from '../../ir/ops/index.ts'
import type { Activation } from '../../ir/types.ts'

/**
 * Whether exp's argument can never overflow the base-change MUL on this plan, so that the clamp to 50 units
 * can be left out of the contract: each layer's pre-activation is bounded by its lane width (interval
 * analysis: no accumulator leaves its lane), and beyond 50 units both forms give e^-x = 0 at 2^64, so the
 * simulator's clamped exp computes the same numbers. Each op says how many times its input exp's argument
 * can be (tanh and softmax: twice).
 */
function clampFree(plan: Plan, mul: bigint): boolean {
  // an op after another op (a seq's parts, an activation on a join) reads no lane-bounded accumulator
  const composed = plan.layers.flatMap((l) => [...(l.activation.kind === 'seq' ? [l.activation] : []), ...(l.input?.post ? [l.input.post] : [])])
  if (composed.some((a) => flatActivations(a).some((x) => opOf(x).expFactor !== undefined))) return false
  return plan.layers.every((l) => {
    const f = opOf(l.activation).expFactor
    if (f === undefined) return true
    const v = ((1n << BigInt(l.laneBits - 1)) >> BigInt(l.wShift)) + 1n
    return f * v * mul < 1n << 255n
  })
}

/**
 * A sigmoid computed at exactly one place in the contract (a dense model with one sigmoid output, as
 * ML2SC's) is written there instead of as a function: a Yul call costs ~40 gas and its own code.
 */
export function sigmoidInline(plan: Plan): boolean {
  const composed = plan.layers.flatMap((l) => [...(l.activation.kind === 'seq' ? flatActivations(l.activation) : []), ...(l.input?.post ? flatActivations(l.input.post) : [])])
  return !plan.tensorLayers?.length && !composed.some((a) => a.kind === 'sigmoid') && plan.layers.reduce((n, l) => n + (l.activation.kind === 'sigmoid' ? l.nOut : 0), 0) === 1
}

/** Every op a plan's dense layers apply: each layer's activation and each join's post op, seqs flattened. */
export const planActivations = (plan: Plan): Activation[] => plan.layers.flatMap((l) => [l.activation, ...(l.input?.post ? [l.input.post] : [])]).flatMap(flatActivations)

/** Statements applying `a` in place to the n words at `p`: a vector op's call, or an element-wise op in a loop. */
export function applyInPlaceYul(a: Activation, p: string, n: number, plan: Plan): string {
  const op = opOf(a)
  if (op.shape === 'vector') return op.yul.vectorCall!(p, n, a, yulCtxOf(plan))
  const e = op.yul.expr('v', paramOf(a, { scale: plan.scale, slopeBits: plan.slopeBits }))
  return `for { let q := ${p} let qe := add(${p}, ${32 * n}) } lt(q, qe) { q := add(q, 32) } { let v := mload(q) mstore(q, ${e}) }`
}

/** What the ops' Yul needs of the plan. */
export function yulCtxOf(plan: Plan): YulCtx {
  return {
    scale: plan.scale,
    slopeBits: plan.slopeBits,
    F: plan.F,
    binary: plan.decimals === undefined,
    clampFree: clampFree(plan, expBase(plan.scale).mul),
    sigmoidInline: sigmoidInline(plan),
  }
}

/** The statement storing `act(v)` at `out`: an op's inline statements (a lone sigmoid), or one MSTORE of its expression. */
export function storeActivation(a: Activation, v: string, out: string, plan: Plan, slopeQ: bigint): string {
  const op = opOf(a)
  return op.yul.store?.(v, out, yulCtxOf(plan)) ?? `mstore(${out}, ${op.yul.expr(v, slopeQ)})`
}

/** The Yul call applying a vector op (softmax, a norm) to the `n` outputs at `p`, if the activation is one. */
export function vectorActivationYul(a: Activation, p: string, n: number, plan: Plan): string | undefined {
  return opOf(a).yul.vectorCall?.(p, n, a, yulCtxOf(plan))
}

/** Helpers of the ops the plan uses, each written once, in order (ops in registry order). */
function helpersOf(plan: Plan, pick: (op: (typeof OPS)[keyof typeof OPS], c: YulCtx) => YulHelper[]): string {
  const kinds = new Set([...plan.layers.map((l) => l.activation.kind), ...planActivations(plan).map((a) => a.kind)])
  const c = yulCtxOf(plan)
  const seen = new Map<string, YulHelper>()
  for (const op of Object.values(OPS)) if (kinds.has(op.kind)) for (const h of pick(op, c)) if (!seen.has(h.name)) seen.set(h.name, h)
  return [...seen.values()]
    .sort((a, b) => a.order - b.order)
    .map((h) => h.text)
    .join('\n            ')
}

/**
 * Yul helper functions for the activations the plan uses: the exact twins of the ops' fixed faces
 * (src/ir/ops/). exp(-x) at 2^64 with no DIV (ir/ops/exp.ts), written inline in sigmoid and tanh (no nested
 * call); sigmoid and tanh divide once, for the reciprocal; signs are handled without branches.
 */
export function activationFunctionsYul(plan: Plan): string {
  return helpersOf(plan, (op, c) => op.yul.helpers(c))
}

/** Helpers written after the others (the leaky helper). */
export function leakyFunctionYul(plan: Plan): string {
  return helpersOf(plan, (op, c) => op.yul.lateHelpers?.(c) ?? [])
}

/** The Yul expression applying an element-wise activation to `v` (a vector op is applied to the whole vector later). */
export function activationExpr(a: Activation, v: string, slopeQ: bigint): string {
  return opOf(a).yul.expr(v, slopeQ)
}

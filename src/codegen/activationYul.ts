import { EXP2_C1, EXP2_C2, EXP2_C3, EXP2_TABLE, EXP_CLAMP_UNITS, ONE64, expBase } from '../fixed/activations.ts'
import type { Plan } from '../fixed/types.ts'

const hex = (v: bigint) => '0x' + v.toString(16)

/**
 * Whether exp's argument can never overflow the base-change MUL on this plan, so that the clamp to 50 units
 * can be left out of the contract: each layer's pre-activation is bounded by its lane width (interval
 * analysis: no accumulator leaves its lane), and beyond 50 units both forms give e^-x = 0 at 2^64, so the
 * simulator's clamped exp computes the same numbers. tanh and softmax pass up to twice that bound.
 */
function clampFree(plan: Plan, mul: bigint): boolean {
  return plan.layers.every((l) => {
    const k = l.activation.kind
    if (k !== 'sigmoid' && k !== 'tanh' && k !== 'softmax') return true
    const v = ((1n << BigInt(l.laneBits - 1)) >> BigInt(l.wShift)) + 1n
    return (k === 'sigmoid' ? v : 2n * v) * mul < 1n << 255n
  })
}

/**
 * e^-x at 2^64 (x ≥ 0 in activation units, an expression used once): statements binding `${p}t` and
 * `${p}g`, and the expression of the result. Nested expressions, few variables: the legacy code generator
 * turns every variable and reassignment into stack shuffling. `p` prefixes the names (written inline,
 * they must not meet the kernel's own).
 */
function expNegYul(plan: Plan, x: string, p = ''): { lets: string; e: string } {
  const base = expBase(plan.scale)
  const free = clampFree(plan, base.mul)
  const t = `${p}t`
  const g = `${p}g`
  return {
    lets: `let ${t} := shr(${base.shift}, mul(${free ? x : `clampX(${x})`}, ${hex(base.mul)}))
                let ${g} := and(${t}, 0x1fffffffffffffff)`,
    e: `shr(add(31, shr(64, ${t})), mul(sub(${hex(ONE64)}, shr(64, mul(${g}, sub(${hex(EXP2_C1)}, shr(64, mul(${g}, sub(${hex(EXP2_C2)}, shr(64, mul(${g}, ${hex(EXP2_C3)}))))))))), and(shr(and(shr(56, ${t}), 0xe0), ${hex(EXP2_TABLE)}), 0xffffffff)))`,
  }
}

/** sigmoid(y) (y an expression read more than once: a variable): statements, and the expression of the result. */
function sigmoidYul(plan: Plan, y: string, p = ''): { lets: string; s: string } {
  // m = 0 or all ones (y < 0): |y| = (y xor m) - m; the sign restored as scale - s = (s xor m) + (m and (scale+1))
  const m = `${p}m`
  const den = `${p}den`
  const x = expNegYul(plan, `sub(xor(${y}, ${m}), ${m})`, p)
  return {
    lets: `let ${m} := sar(255, ${y})
                ${x.lets}
                let ${den} := add(${hex(ONE64)}, ${x.e})`,
    s: `add(xor(div(add(${hex(ONE64 * plan.scale)}, shr(1, ${den})), ${den}), ${m}), and(${m}, ${hex(plan.scale + 1n)}))`,
  }
}

/**
 * A sigmoid computed at exactly one place in the contract (a dense model with one sigmoid output, as
 * ML2SC's) is written there instead of as a function: a Yul call costs ~40 gas and its own code.
 */
export function sigmoidInline(plan: Plan): boolean {
  return !plan.tensorLayers?.length && plan.layers.reduce((n, l) => n + (l.activation.kind === 'sigmoid' ? l.nOut : 0), 0) === 1
}

/** The statement storing `act(v)` at `out`: an inline sigmoid's statements, or one MSTORE of activationExpr. */
export function storeActivation(kind: string, v: string, out: string, plan: Plan, slopeQ: bigint): string {
  if (kind !== 'sigmoid' || !sigmoidInline(plan)) return `mstore(${out}, ${activationExpr(kind, v, slopeQ)})`
  const x = sigmoidYul(plan, v, 'sg_')
  return `${x.lets.replace(/\n\s*/g, ' ')} mstore(${out}, ${x.s})`
}

/**
 * Yul helper functions for the activations the plan uses: the exact twins of fixed/activations.ts.
 * exp(-x) at 2^64 with no DIV: base change by one MUL+SHR, 2^-(j/8) from a packed 8-entry table,
 * 2^-g by a degree-3 Horner polynomial, 2^-k as a shift; written inline in sigmoid and tanh (no nested
 * call). Sigmoid and tanh divide once, for the reciprocal; signs are handled without branches.
 */
export function activationFunctionsYul(plan: Plan): string {
  const kinds = new Set(plan.layers.map((l) => l.activation.kind))
  const binary = plan.decimals === undefined
  const SCALE = hex(plan.scale)
  // x·scale: a shift for a binary scale (what the simulator's multiplication equals exactly), else a MUL
  const up = (x: string) => (binary ? `shl(${plan.F}, ${x})` : `mul(${x}, ${SCALE})`)
  const clamp = hex(EXP_CLAMP_UNITS * plan.scale)
  const base = expBase(plan.scale)
  const free = clampFree(plan, base.mul)
  const ONE = hex(ONE64)
  const expNeg = (x: string) => expNegYul(plan, x)
  const out: string[] = []
  if (!free)
    out.push(`function clampX(x) -> c {
                c := x
                if gt(x, ${clamp}) { c := ${clamp} }
            }`)
  if (kinds.has('softmax')) {
    const x = expNeg('x')
    out.push(`function expNeg(x) -> e {
                ${x.lets}
                e := ${x.e}
            }`)
  }
  if (kinds.has('sigmoid') && !sigmoidInline(plan)) {
    const x = sigmoidYul(plan, 'y')
    out.push(`function sigmoid(y) -> s {
                ${x.lets}
                s := ${x.s}
            }`)
  }
  // tanh: m = 0 or all ones (y < 0): |y| = (y xor m) - m, the sign restored as (s xor m) - m
  if (kinds.has('tanh')) {
    const x = expNeg(`shl(1, ${free ? 'sub(xor(y, m), m)' : 'clampX(sub(xor(y, m), m))'})`)
    out.push(`function tanh_(y) -> s {
                let m := sar(255, y)
                ${x.lets}
                let e := ${x.e}
                let den := add(${ONE}, e)
                s := sub(xor(div(add(${up(`sub(${ONE}, e)`)}, shr(1, den)), den), m), m)
            }`)
  }
  if (kinds.has('softmax'))
    out.push(`function softmax(p, n) {
                let end := add(p, shl(5, n))
                let m := mload(p)
                for { let q := add(p, 32) } lt(q, end) { q := add(q, 32) } { let v := mload(q) if sgt(v, m) { m := v } }
                let sum := 0
                for { let q := p } lt(q, end) { q := add(q, 32) } {
                    let e := expNeg(sub(m, mload(q)))
                    mstore(q, e)
                    sum := add(sum, e)
                }
                let half := shr(1, sum)
                for { let q := p } lt(q, end) { q := add(q, 32) } { mstore(q, div(add(${up('mload(q)')}, half), sum)) }
            }`)
  return out.join('\n            ')
}

/** The Yul expression applying an element-wise activation to `v` (softmax is applied to the whole vector later). */
export function activationExpr(kind: string, v: string, slopeQ: bigint): string {
  switch (kind) {
    case 'relu':
      return `mul(${v}, sgt(${v}, 0))`
    case 'leaky_relu':
      return `leaky(${v}, ${hex(BigInt.asUintN(256, slopeQ))})`
    case 'sigmoid':
      return `sigmoid(${v})`
    case 'tanh':
      return `tanh_(${v})`
    default:
      return v
  }
}

export function leakyFunctionYul(plan: Plan): string {
  if (!plan.layers.some((l) => l.activation.kind === 'leaky_relu')) return ''
  return `function leaky(v, slope) -> r {
                r := v
                if slt(v, 0) { r := sar(${plan.slopeBits}, mul(v, slope)) }
            }`
}

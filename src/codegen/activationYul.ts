import { EXP_CLAMP_UNITS, EXP_DEGREE, LN2_64, ONE64 } from '../fixed/activations.ts'
import type { Plan } from '../fixed/types.ts'

const hex = (v: bigint) => '0x' + v.toString(16)

/**
 * Yul helper functions for the activations the plan uses: the exact twins of fixed/activations.ts.
 * exp(-x) at 2^64: range reduction by ln2, degree-12 Taylor in Horner form, then a shift.
 */
export function activationFunctionsYul(plan: Plan): string {
  const kinds = new Set(plan.layers.map((l) => l.activation.kind))
  const needExp = kinds.has('sigmoid') || kinds.has('tanh') || kinds.has('softmax')
  const binary = plan.decimals === undefined
  const F = BigInt(binary ? plan.F : 0)
  const SCALE = hex(plan.scale)
  // x·scale: a shift for a binary scale (what the simulator's multiplication equals exactly), else a MUL
  const up = (x: string) => (binary ? `shl(${F}, ${x})` : `mul(${x}, ${SCALE})`)
  const clamp = hex(EXP_CLAMP_UNITS * plan.scale)
  const out: string[] = []
  if (needExp) {
    const horner: string[] = []
    // floor(floor(r·t / 2^64) / j) = floor(r·t / (j·2^64)): same result as the simulator, 1-byte constants
    for (let j = EXP_DEGREE; j >= 1; j--) horner.push(j === 1 ? `t := sub(${hex(ONE64)}, shr(64, mul(r, t)))` : `t := sub(${hex(ONE64)}, div(shr(64, mul(r, t)), ${j}))`)
    out.push(`function expNeg64(x) -> e {
                let k := div(x, ${hex(LN2_64)})
                if lt(k, 64) {
                    let r := sub(x, mul(k, ${hex(LN2_64)}))
                    let t := ${hex(ONE64)}
                    ${horner.join('\n                    ')}
                    e := shr(k, t)
                }
            }
            function toP64(a, extra) -> x {
                if gt(a, ${clamp}) { a := ${clamp} }
                x := ${binary ? `shl(add(${64n - F}, extra), a)` : `div(shl(add(64, extra), a), ${SCALE})`}
            }`)
  }
  if (kinds.has('sigmoid'))
    out.push(`function sigmoid(y) -> s {
                let neg := slt(y, 0)
                let a := y
                if neg { a := sub(0, y) }
                let e := expNeg64(toP64(a, 0))
                let den := add(${hex(ONE64)}, e)
                let num := ${hex(ONE64 * plan.scale)}
                if neg { num := ${up('e')} }
                s := div(add(num, shr(1, den)), den)
            }`)
  if (kinds.has('tanh'))
    out.push(`function tanh_(y) -> s {
                let neg := slt(y, 0)
                let a := y
                if neg { a := sub(0, y) }
                let e := expNeg64(toP64(a, 1))
                let den := add(${hex(ONE64)}, e)
                s := div(add(${up(`sub(${hex(ONE64)}, e)`)}, shr(1, den)), den)
                if neg { s := sub(0, s) }
            }`)
  if (kinds.has('softmax'))
    out.push(`function softmax(p, n) {
                let end := add(p, shl(5, n))
                let m := mload(p)
                for { let q := add(p, 32) } lt(q, end) { q := add(q, 32) } { let v := mload(q) if sgt(v, m) { m := v } }
                let sum := 0
                for { let q := p } lt(q, end) { q := add(q, 32) } {
                    let e := expNeg64(toP64(sub(m, mload(q)), 0))
                    mstore(q, e)
                    sum := add(sum, e)
                }
                let half := shr(1, sum)
                for { let q := p } lt(q, end) { q := add(q, 32) } { mstore(q, div(add(${up('mload(q)')}, half), sum)) }
            }`)
  return out.join('\n            ')
}

/** The Yul expression applying an element-wise activation to `v` (softmax is applied to the whole vector later). */
export function activationExpr(kind: string, v: string, plan: Plan, slopeQ: bigint): string {
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

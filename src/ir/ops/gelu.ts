import { erf } from './erf.ts'
import { ONE64 } from './exp.ts'
import { absYul, expNeg64, expNeg64Helper, ONE128, timesFrac, timesFracYul } from './smooth.ts'
import { bitsOf, hex, type OpDef } from './types.ts'

/**
 * GELU = v·Φ(v), both of PyTorch's forms, as v·s/2^64 with s = Φ(v) at 2^64 (a = min(|v|, 10): beyond 10
 * units s is exactly 0 or 2^64 at 2^64, as Φ is to 1e-23):
 * - 'none' (erf, PyTorch's default): Φ(-a) = erfc(a/√2)/2 with Numerical Recipes' erfc (Chebyshev fit,
 *   fractional error < 1.2e-7): t = 1/(1 + z/2), erfc = t·exp(-z² + P(t)), P of degree 9 in Horner form (signed,
 *   SAR floors); exp by the sigmoid's method at 2^64. One DIV for t.
 * - 'tanh': 0.5·(1 + tanh(√(2/π)(x + 0.044715x³))) = sigmoid(k), k = A·a + B·a³ at 2^64; one DIV.
 * Then Φ(v) = 1 - Φ(-a) for v ≥ 0. Max abs error: half an ulp + 3e-8 (erf form), + 1.3e-8 (tanh form).
 */
const R64 = 13043817825332782212n // round(2^64/√2)
/** NR erfc's coefficients c0..c9 at 2^64 (c0 = -1.26551223 … c9 = 0.17087277). */
const ERFC = [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277].map((c) => BigInt(Math.round(c * 2 ** 32)) << 32n)
const A64 = 29436744586989211648n // round(2·√(2/π)·2^64)
const B64 = 1316264034207222528n // round(2·√(2/π)·0.044715·2^64)
const SAT = 10n
const clampA = (v: bigint, scale: bigint) => {
  const a = v < 0n ? -v : v
  return a > SAT * scale ? SAT * scale : a
}

/** Φ(-a) at 2^64, erf form (a ≥ 0 clamped to 10 units). */
export function phiNegErf(a: bigint, scale: bigint): bigint {
  const z = (a * R64) / scale
  const t = ONE128 / (ONE64 + (z >> 1n))
  let h = ERFC[9]!
  for (let k = 8; k >= 0; k--) h = ERFC[k]! + ((t * h) >> 64n)
  let x = ((z * z) >> 64n) - h
  if (x < 0n) x = 0n
  return (t * expNeg64(x)) >> 65n
}

/** Φ(-a) at 2^64, tanh form: 2^64 - sigmoid(k(a)) = 2^64·e/(1 + e), e = e^-k. */
export function phiNegTanh(a: bigint, scale: bigint): bigint {
  const k = (a * A64) / scale + (a * a * a * B64) / (scale * scale * scale)
  return ONE64 - ONE128 / (ONE64 + expNeg64(k))
}

export function geluFixed(v: bigint, tanhForm: boolean, scale: bigint): bigint {
  const a = clampA(v, scale)
  const q = tanhForm ? phiNegTanh(a, scale) : phiNegErf(a, scale)
  return timesFrac(v, v < 0n ? q : ONE64 - q)
}

/** GELU's float reference (erf form: erf.ts, to ~1e-15). */
export const geluFloat = (v: number, tanhForm: boolean): number =>
  tanhForm ? 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))) : 0.5 * v * (1 + erf(v / Math.SQRT2))

export const gelu: OpDef<{ kind: 'gelu'; approximate: 'none' | 'tanh' }> = {
  kind: 'gelu',
  shape: 'elementwise',
  gas: 800,
  float: (y, a) => y.map((v) => geluFloat(v, a.approximate === 'tanh')),
  param: (a) => (a.approximate === 'tanh' ? 1n : 0n),
  fixed: (y, a, _q, c) => y.map((v) => geluFixed(v, a.approximate === 'tanh', c.scale)),
  bound: (p) => p + 1n,
  check: (p, _a, _q, c) =>
    bitsOf(p) > 190 ? 'gelu could overflow 256 bits' : bitsOf(SAT ** 3n * c.scale ** 3n * B64) > 255 ? 'gelu needs an activation scale of at most 2^61' : undefined,
  yul: {
    helpers: (c) => {
      const S = hex(c.scale)
      const horner = ERFC.slice(0, -1).reduceRight((inner, k) => `add(${hex(BigInt.asUintN(256, k))}, sar(64, mul(t, ${inner})))`, hex(ERFC[9]!))
      const clampA = `let a := ${absYul('v', 'm')}
                if gt(a, ${hex(SAT * c.scale)}) { a := ${hex(SAT * c.scale)} }`
      const tail = `let s := sub(${hex(ONE64)}, q)
                if m { s := q }
                r := ${timesFracYul('v', 's')}`
      return [
        expNeg64Helper(),
        {
          name: 'gelu',
          order: 15,
          text: `function gelu(v) -> r {
                let m := sar(255, v)
                ${clampA}
                let z := div(mul(a, ${hex(R64)}), ${S})
                let t := div(${hex(ONE128)}, add(${hex(ONE64)}, shr(1, z)))
                let x := sub(shr(64, mul(z, z)), ${horner})
                if slt(x, 0) { x := 0 }
                let q := shr(65, mul(t, expNeg64(x)))
                ${tail}
            }`,
        },
        {
          name: 'geluTanh',
          order: 16,
          text: `function geluTanh(v) -> r {
                let m := sar(255, v)
                ${clampA}
                let k := add(div(mul(a, ${hex(A64)}), ${S}), div(mul(mul(mul(a, a), a), ${hex(B64)}), ${hex(c.scale ** 3n)}))
                let q := sub(${hex(ONE64)}, div(${hex(ONE128)}, add(${hex(ONE64)}, expNeg64(k))))
                ${tail}
            }`,
        },
      ]
    },
    expr: (v, q) => (q ? `geluTanh(${v})` : `gelu(${v})`),
  },
  error: 3e-8,
}

/**
 * Fixed-point activations, exactly as the generated contract computes them: each op lives in one file of
 * src/ir/ops/ (float reference, fixed twin, interval rule and Yul side by side); this module re-exports the
 * fixed twins and gathers the approximation errors for the report.
 *
 * Measured max abs error against the float functions (test/fixed/activations.test.ts sweeps every ulp near
 * 0, the whole range to ±60 and the clamp region up to the int256 extremes), at the default F = 20:
 *   sigmoid 4.82e-7, tanh 4.88e-7, softmax 4.82e-7: half an ulp (2^-21 = 4.77e-7, the final rounding) plus
 *   at most 6.6e-9 (sigmoid, softmax) and 1.3e-8 (tanh) from exp (measured at 2^64). The required bound is 1e-6. At other scales
 *   (2^8 … 2^64, 10^18) the error stays within half an ulp + 1.4e-8. Properties: sigmoid and tanh are
 *   monotone, tanh is odd, sigmoid(y) + sigmoid(-y) = 2^F exactly, softmax sums to 2^F within n/2 ulps and
 *   is shift invariant. ReLU and LeakyReLU are exact (leaky: floor(y · round(slope·2^F) / 2^F), the SAR's floor).
 */
import { OPS } from '../ir/ops/index.ts'

export { EXP2_C1, EXP2_C2, EXP2_C3, EXP2_TABLE, EXP_CLAMP_UNITS, ONE64, expBase, expNeg } from '../ir/ops/exp.ts'
export { leakyReluFixed } from '../ir/ops/leakyRelu.ts'
export { reluFixed } from '../ir/ops/relu.ts'
export { sigmoidFixed } from '../ir/ops/sigmoid.ts'
export { softmaxFixed } from '../ir/ops/softmax.ts'
export { tanhFixed } from '../ir/ops/tanh.ts'

/**
 * Each approximated op's own largest abs error against the float function (measured at 2^64, where rounding
 * is negligible; asserted by test/fixed/activations.test.ts). At scale S an output is within this plus
 * half an ulp (1/(2S)) of the float function.
 */
export const APPROXIMATION_ERROR: Readonly<Record<string, number>> = Object.fromEntries(
  Object.values(OPS).flatMap((op) => (op.error === undefined ? [] : [[op.kind, op.error]])),
)

/** The largest abs error of each approximated activation the plan uses, at its scale: half an ulp + the approximation's. */
export function activationErrors(kinds: string[], scale: bigint): Record<string, number> {
  const out: Record<string, number> = {}
  for (const k of kinds) if (k in APPROXIMATION_ERROR) out[k] = 0.5 / Number(scale) + APPROXIMATION_ERROR[k]!
  return out
}

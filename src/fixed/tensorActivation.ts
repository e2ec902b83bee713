import type { Activation } from '../ir/types.ts'
import { opOf } from '../ir/ops/index.ts'

/** The element-wise activation after a conv/pool layer, float (the op registry's reference; softmax never reaches here). */
export function activateFloat(y: number[], a: Activation): number[] {
  return opOf(a).float(y, a)
}

/** The same in fixed point, exactly as the dense layers' activations (the op registry's twin). */
export function activateFixed(y: bigint[], a: Activation, slopeQ: bigint, slopeBits: number, scale: bigint): bigint[] {
  return opOf(a).fixed(y, a, slopeQ, { scale, slopeBits })
}

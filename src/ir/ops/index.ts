import type { Activation } from '../activation.ts'
import { affine } from './affine.ts'
import { elu } from './elu.ts'
import { gelu } from './gelu.ts'
import { hardsigmoid } from './hardsigmoid.ts'
import { hardswish } from './hardswish.ts'
import { hardtanh } from './hardtanh.ts'
import { layerNorm } from './layerNorm.ts'
import { identity } from './identity.ts'
import { logSoftmax } from './logSoftmax.ts'
import { mish } from './mish.ts'
import { leakyRelu } from './leakyRelu.ts'
import { relu } from './relu.ts'
import { silu } from './silu.ts'
import { sigmoid } from './sigmoid.ts'
import { softmax } from './softmax.ts'
import { softplus } from './softplus.ts'
import { tanh } from './tanh.ts'
import type { OpDef } from './types.ts'

export type { FixedCtx, OpDef, YulCtx, YulHelper } from './types.ts'

/**
 * The op registry: each activation in one file (./<op>.ts) with its faces side by side (shape rule, float
 * reference, fixed-point twin, interval rule, Yul). Readers, the plan, the simulator and codegen look ops up here.
 */
export const OPS: { [K in Activation['kind']]: OpDef<Extract<Activation, { kind: K }>> } = {
  identity,
  relu,
  leaky_relu: leakyRelu,
  sigmoid,
  tanh,
  softmax,
  hardtanh,
  hardsigmoid,
  hardswish,
  elu,
  silu,
  gelu,
  softplus,
  mish,
  log_softmax: logSoftmax,
  layer_norm: layerNorm,
  affine,
}

export function opOf(a: Activation): OpDef {
  return OPS[a.kind] as unknown as OpDef
}

/** The activation's quantised parameter (a leaky slope at 2^slopeBits, a clamp's bounds, ELU's alpha), else 0. */
export const paramOf = (a: Activation, c: { scale: bigint; slopeBits: number }): bigint => opOf(a).param?.(a, c) ?? 0n

/** Float reference of an activation over a layer's outputs. */
export const activateFloat = (y: number[], a: Activation): number[] => opOf(a).float(y, a)

/** The fixed-point twin over a layer's outputs (q: paramOf). */
export const activateFixed = (y: bigint[], a: Activation, q: bigint, c: { scale: bigint; slopeBits: number }): bigint[] => opOf(a).fixed(y, a, q, c)

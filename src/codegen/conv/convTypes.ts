import type { Activation } from '../../ir/types.ts'
import type { Span } from '../../ir/poolSpans.ts'

/**
 * What the on-chain tensor kernels need to know about a convolutional network, in fixed point. A dense
 * layer is a 1×1 convolution over a [nIn, 1, 1] tensor; flattening a C-order tensor is free.
 */
export type Shape3 = { c: number; h: number; w: number }
export type Pad4 = { top: number; bottom: number; left: number; right: number }

/** Where a conv or pool window reads: shapes, kernel, stride, dilation and padding (both steps share it). */
export type WindowStep = {
  name: string
  inShape: Shape3
  outShape: Shape3
  kh: number
  kw: number
  sh: number
  sw: number
  dh: number
  dw: number
  pad: Pad4
}

export type ConvStep = WindowStep & {
  kind: 'conv'
  /** 1, or inShape.c for a depthwise convolution. */
  groups: number
  /** wq[cout][cin / groups][kh][kw] */
  weights: bigint[][][][]
  /** Biases with the rounding half-ulp folded in, as the dense plan does. */
  biases: bigint[]
  wShift: number
  laneBits: number
  lanes: number
  activation: Activation
  slopeQ: bigint
  /** Largest |accumulator| (interval analysis); lets a fused max pool use one SWAR compare per word. */
  accMax?: bigint
  /** The first conv: the range of every input value (the calldata type's), for row lanes' per-channel intervals (rowLanesPlan.ts). */
  inRange?: [bigint, bigint]
  /** Per-layer weight widths (a mixed plan): this step's bytes per weight (convPackets.ts stepWeightBytes). */
  weightBytes?: number
  /**
   * A dense step of a multi-output model that does not read the previous step's output: the tensors
   * (indices into ConvMemory.tensors) it reads, concatenated in this order (ir/heads.ts).
   */
  reads?: number[]
}

export type PoolStep = WindowStep & {
  kind: 'maxpool' | 'avgpool'
  /** Average pooling: divide by kh·kw even where the window covers padding (PyTorch's default), else by the in-range count. */
  countIncludePad: boolean
  /** ceil_mode / adaptive windows (ir/poolSpans.ts): poolYul unrolls each output position's window. */
  spans?: Span[][]
  activation: Activation
  slopeQ: bigint
}

/**
 * A residual add or channel concat of earlier tensors (`reads`, indices into ConvMemory.tensors), then the
 * activation (./joinYul.ts). Its window is the identity (1×1, stride 1, no padding), outShape to outShape.
 * A concat of one tensor is a copy: the lowering (tensorStepsOf) puts one before a conv or pool that reads
 * a tensor other than the one just before it, so that every window step reads its own halo.
 */
export type JoinStep = WindowStep & {
  kind: 'add' | 'concat'
  reads: number[]
  activation: Activation
  slopeQ: bigint
}

export type TensorStep = ConvStep | PoolStep | JoinStep

export const isJoinStep = (s: TensorStep): s is JoinStep => s.kind === 'add' || s.kind === 'concat'

/** The earlier tensors a step reads beside the one just before it (a dense step's `reads`, a join's operands). */
export const extraReadsOf = (s: TensorStep): number[] => (isJoinStep(s) ? s.reads : s.kind === 'conv' ? (s.reads ?? []) : [])

export const NO_PAD: Pad4 = { top: 0, bottom: 0, left: 0, right: 0 }

/** A dense layer (weights[out][in]) as the 1×1 convolution the kernel runs. */
export function denseAsConv(d: Pick<ConvStep, 'name' | 'biases' | 'wShift' | 'laneBits' | 'lanes' | 'activation' | 'slopeQ' | 'weightBytes'> & { weights: bigint[][] }): ConvStep {
  const nOut = d.weights.length
  const nIn = d.weights[0]!.length
  return {
    kind: 'conv',
    name: d.name,
    inShape: { c: nIn, h: 1, w: 1 },
    outShape: { c: nOut, h: 1, w: 1 },
    kh: 1,
    kw: 1,
    sh: 1,
    sw: 1,
    dh: 1,
    dw: 1,
    pad: NO_PAD,
    groups: 1,
    weights: d.weights.map((row) => row.map((w) => [[w]])),
    biases: d.biases,
    wShift: d.wShift,
    laneBits: d.laneBits,
    lanes: d.lanes,
    activation: d.activation,
    slopeQ: d.slopeQ,
    ...(d.weightBytes === undefined ? {} : { weightBytes: d.weightBytes }),
  }
}

/** Output channels of conv step s that share one lane word: consecutive channels of one convolution group. */
export type LaneGroup = { first: number; lanes: number; cinFirst: number }

export function laneGroupsOf(s: ConvStep): LaneGroup[] {
  const coutPer = s.outShape.c / s.groups
  const cinPer = s.inShape.c / s.groups
  const L = Math.max(1, Math.min(s.lanes, coutPer))
  const out: LaneGroup[] = []
  for (let g = 0; g < s.groups; g++)
    for (let j = 0; j < coutPer; j += L) out.push({ first: g * coutPer + j, lanes: Math.min(L, coutPer - j), cinFirst: g * cinPer })
  return out
}

/** Taps per lane word: (cin of the group) × kh × kw. */
export const tapsOf = (s: ConvStep) => (s.inShape.c / s.groups) * s.kh * s.kw

/** A conv step with one output position (a dense layer) uses each lane word once: no packing pass, read from the blob. */
export const readsBlobDirectly = (s: ConvStep) => s.outShape.h * s.outShape.w === 1

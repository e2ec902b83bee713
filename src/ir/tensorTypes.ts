import type { Activation } from './activation.ts'
import type { Span } from './poolSpans.ts'

/**
 * Tensor layers of a convolutional model. Tensors are [C, ...spatial]: spatial is [L] for 1-D layers and
 * [H, W] for 2-D layers, stored flat in C order (channel-major, then rows, then columns), which is also
 * how the CSV's feature columns and PyTorch's flatten order them. Every per-axis array below (kernel,
 * stride, dilation, padBegin, padEnd) has one entry per spatial axis.
 */
export type Geometry = {
  /** Input and output shapes [C, ...spatial]. */
  inShape: number[]
  outShape: number[]
  kernel: number[]
  stride: number[]
  dilation: number[]
  /** Zero padding (conv, avgpool) or -∞ padding (maxpool) before and after each spatial axis. */
  padBegin: number[]
  padEnd: number[]
}

/**
 * Conv1d/Conv2d, cross-correlation as PyTorch computes it:
 * out[o][p] = bias[o] + Σ_{c<inC/groups} Σ_{taps t} weight[o][c][t] · in[g·(inC/groups)+c][p·stride − padBegin + t·dilation]
 * with g = floor(o / (outC/groups)); out-of-range input positions are 0. groups = 1 or inC (depthwise)
 * or any common divisor of inC and outC. BatchNorm after the conv is already folded into weight/bias.
 */
export type ConvLayer = Geometry & {
  kind: 'conv'
  /** PyTorch module path or ONNX node name. */
  name: string
  /** Flat, in PyTorch's order [outC][inC/groups][...kernel]. */
  weight: number[]
  /** One per output channel (zeros when the conv has no bias). */
  bias: number[]
  groups: number
  activation: Activation
  /** A graph: the value it reads when not the previous layer's output (0 the model's input, k tensorLayers[k−1]'s). */
  from?: number
}

/**
 * MaxPool / AvgPool per channel. Max pooling ignores padded positions (-∞ padding). Average pooling
 * divides the window sum by the window size including padding when `countIncludePad` (PyTorch's default),
 * else by the number of in-range positions (ONNX's default). Global average pooling (AdaptiveAvgPool(1),
 * ONNX GlobalAveragePool) is an avgpool whose kernel is the whole spatial extent, with `global` set.
 */
export type PoolLayer = Geometry & {
  kind: 'maxpool' | 'avgpool'
  name: string
  countIncludePad: boolean
  global?: boolean
  /**
   * ceil_mode=True and adaptive pools whose windows are not one kernel at one stride: the window of each
   * output index per axis (./poolSpans.ts), which then replaces kernel/stride/padding (kernel holds the
   * largest window, for gas estimates; no padding).
   */
  spans?: Span[][]
  activation: Activation
  from?: number
}

/**
 * A residual add (`conv2(h) + x`) or a channel concat (`torch.cat([a, b], dim=1)`) of earlier tensors
 * (./ops/tensorJoin.ts has its shape rule, float, fixed-point and interval faces). `values`: 0 the model's
 * input, k the output of tensorLayers[k−1]. Its geometry is the identity window (kernel 1, stride 1, no
 * padding) from outShape to outShape; `activation` is applied to the sum (`F.relu(a + b)`).
 */
export type JoinLayer = Geometry & {
  kind: 'add' | 'concat'
  name: string
  values: number[]
  activation: Activation
}

export type TensorLayer = ConvLayer | PoolLayer | JoinLayer

/** The value tensor layer `l` reads (0 the input, k the output of layer k−1); a join reads several (JoinLayer.values). */
export const tensorInputOf = (layer: object, l: number): number => ('from' in layer && typeof layer.from === 'number' ? layer.from : l)

/** Every value tensor layer `l` reads. */
export const tensorReadsOf = (layer: object, l: number): number[] => ('values' in layer && Array.isArray(layer.values) ? (layer.values as number[]) : [tensorInputOf(layer, l)])

/** Whether a layer other than the first reads the model's input (a skip from the input): the input must then be at the activation scale. */
export const graphReadsInput = (layers: object[]): boolean => layers.some((l, k) => k > 0 && tensorReadsOf(l, k).includes(0))

/** Whether a tensor layer (or its plan) is a residual add or channel concat. */
export const isJoin = <T extends { kind: string }>(l: T): l is Extract<T, { kind: 'add' | 'concat' }> => l.kind === 'add' || l.kind === 'concat'

/** Padding as a loader sees it, resolved against the input shape by buildModel. */
export type PaddingSpec =
  | { begin: number[]; end: number[] }
  /** 'same' (PyTorch, stride 1) / ONNX SAME_UPPER: the odd pad goes at the end; SAME_LOWER at the beginning. */
  | 'same_upper'
  | 'same_lower'

/** Architecture steps of convolutional models (the weights come from the state_dict by `name`). */
export type TensorStep =
  | {
      op: 'conv'
      /** state_dict prefix: `<name>.weight`, `<name>.bias`. Kernel size and channels come from the weight's shape. */
      name: string
      /** 1 for Conv1d, 2 for Conv2d (also checked against the weight's rank). */
      dims: number
      stride?: number[]
      dilation?: number[]
      padding?: PaddingSpec
      groups?: number
    }
  | {
      op: 'maxpool' | 'avgpool'
      name?: string
      dims: number
      kernel: number[]
      /** Defaults to the kernel (PyTorch's default). */
      stride?: number[]
      dilation?: number[]
      padding?: PaddingSpec
      /** Average pooling only; PyTorch's default is true, ONNX's false. */
      countIncludePad?: boolean
      /** ceil_mode=True: the last window may hang over the end (clipped, ./poolSpans.ts). */
      ceilMode?: boolean
    }
  | { op: 'globalavgpool'; name?: string }
  /** AdaptiveAvgPool / AdaptiveMaxPool to `output` (an entry null keeps that axis's size). */
  | { op: 'adaptivepool'; kind: 'maxpool' | 'avgpool'; dims: number; output: (number | null)[]; name?: string }

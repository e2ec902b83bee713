import { convBlobLayout, type ConvBlobLayout } from './convBlob.ts'
import { laneGroupsOf, NO_PAD, tapsOf, type Pad4, type Shape3, type TensorStep } from './convTypes.ts'

/** A tensor [c][h][w] in memory, one word per value, with a halo of `pad` around each channel plane. */
export type TensorBuffer = {
  at: number
  shape: Shape3
  pad: Pad4
  /** Padded plane sizes. */
  hp: number
  wp: number
  /** The halo holds the smallest int256 (max pooling pads with -∞), else zero (memory starts zeroed). */
  fillMin: boolean
}

/** Byte address of value (c, y, x) (unpadded coordinates) in a buffer. */
export const addrOf = (b: TensorBuffer, c: number, y: number, x: number) => b.at + 32 * ((c * b.hp + y + b.pad.top) * b.wp + x + b.pad.left)
export const planeBytes = (b: TensorBuffer) => 32 * b.hp * b.wp
export const bufferWords = (b: TensorBuffer) => b.shape.c * b.hp * b.wp

export type ConvMemory = {
  blob: number
  blobLayout: ConvBlobLayout
  /** tensors[0] is the input; tensors[i + 1] is step i's output. The last one has two free words before it. */
  tensors: TensorBuffer[]
  /** Per conv step: where its lane words and lane-group biases are packed once per transaction. */
  packed: ({ weights: number; biases: number } | undefined)[]
  /** Per step that reads several tensors (a multi-output model's `heads` layer): where their concatenation is copied. */
  joined: (TensorBuffer | undefined)[]
  /** A one-row predictBatch's packed outputs (ABI bytes). */
  out: number
  end: number
}

const words = (bytes: number) => Math.ceil(bytes / 32) * 32

/** Fixed memory addresses for a tensor network: blob, then the tensors, then the packed lane words. */
export function convMemory(steps: TensorStep[], weightBytes: number, biasBytes: number, outputBytes: number, fused: boolean[] = []): ConvMemory {
  const blobLayout = convBlobLayout(steps, weightBytes, biasBytes)
  const blob = 0xa0
  let at = blob + words(blobLayout.length) + 32
  const shapes = [steps[0]!.inShape, ...steps.map((s) => s.outShape)]
  const tensors = shapes.map((shape, i) => {
    const consumer = steps[i]
    const pad = consumer ? consumer.pad : NO_PAD
    const fillMin = consumer?.kind === 'maxpool' && pad.top + pad.bottom + pad.left + pad.right > 0
    if (i === shapes.length - 1) at += 0x40
    const b: TensorBuffer = { at, shape, pad, hp: shape.h + pad.top + pad.bottom, wp: shape.w + pad.left + pad.right, fillMin }
    // the output of a conv with its max pool fused in is never stored
    if (!fused[i - 1]) at += 32 * bufferWords(b)
    return b
  })
  const outputs = shapes[shapes.length - 1]!
  const out = at
  at += 0x40 + words(outputs.c * outputs.h * outputs.w * outputBytes)
  const packed = steps.map((s) => {
    if (s.kind !== 'conv') return undefined
    const groups = laneGroupsOf(s).length
    const p = { weights: at, biases: at + groups * tapsOf(s) * 32 }
    at = p.biases + groups * 32
    return p
  })
  const joined = steps.map((s) => {
    if (s.kind !== 'conv' || (s.reads?.length ?? 0) < 2) return undefined
    const b: TensorBuffer = { at, shape: s.inShape, pad: NO_PAD, hp: 1, wp: 1, fillMin: false }
    at += 32 * s.inShape.c
    return b
  })
  return { blob, blobLayout, tensors, packed, joined, out, end: at }
}

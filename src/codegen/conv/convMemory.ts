import { convBlobLayout, type ConvBlobLayout } from './convBlob.ts'
import { extraReadsOf, laneGroupsOf, NO_PAD, readsBlobDirectly, tapsOf, type Pad4, type Shape3, type TensorStep } from './convTypes.ts'
import { rowLanesOf, rowLanesWords } from './rowLanesPlan.ts'

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

/** Byte offset in `b` of a conv's tap t (input channel t / kh·kw, then its kernel row and column, dilated) from its window's top-left value. */
export function tapOffset(s: { kh: number; kw: number; dh: number; dw: number }, b: TensorBuffer, t: number): number {
  const kk = s.kh * s.kw
  const r = t % kk
  return Math.floor(t / kk) * planeBytes(b) + 32 * (Math.floor(r / s.kw) * s.dh * b.wp + (r % s.kw) * s.dw)
}

export type ConvMemory = {
  blob: number
  blobLayout: ConvBlobLayout
  /** tensors[0] is the input; tensors[i + 1] is step i's output. The last one has two free words before it. */
  tensors: TensorBuffer[]
  /**
   * Per conv step: where its lane words and lane-group biases are packed once per transaction; with an average pool
   * fused in (avgFusion.ts), `sums`: one word per output channel for its window's running sum.
   */
  packed: ({ weights: number; biases: number; sums?: number } | undefined)[]
  /** Per step that reads several tensors (a multi-output model's `heads` layer): where their concatenation is copied. */
  joined: (TensorBuffer | undefined)[]
  /** A one-row predictBatch's packed outputs (ABI bytes). */
  out: number
  end: number
}

const words = (bytes: number) => Math.ceil(bytes / 32) * 32

/**
 * Fixed memory addresses for a tensor network: blob, then the tensors, then the packed lane words. A tensor
 * with no halo may reuse the bytes of tensors that are dead by the time it is written (each lives from the
 * step that writes it to the step that reads it), so that memory, whose cost grows with the square of its
 * size, stays small; a tensor with a halo (zeros or −∞ that must survive every row) shares with none.
 */
export function convMemory(steps: TensorStep[], weightBytes: number, biasBytes: number, outputBytes: number, fused: boolean[] = []): ConvMemory {
  const blobLayout = convBlobLayout(steps, weightBytes, biasBytes)
  const blob = 0xa0
  const base = blob + words(blobLayout.length) + 32
  const shapes = [steps[0]!.inShape, ...steps.map((s) => s.outShape)]
  const placed: { from: number; to: number; first: number; last: number; halo: boolean }[] = []
  // the last step that reads each tensor beyond the next one: a multi-output model's dense step reads earlier tensors (`reads`)
  const lastReader = new Map<number, number>()
  // and a residual add / channel concat reads its operands (a skip lives until the join that reads it)
  steps.forEach((s, j) => extraReadsOf(s).forEach((t: number) => lastReader.set(t, Math.max(lastReader.get(t) ?? -1, j))))
  let at = base
  const tensors = shapes.map((shape, i) => {
    const consumer = steps[i]
    const pad = consumer ? consumer.pad : NO_PAD
    const fillMin = consumer?.kind === 'maxpool' && pad.top + pad.bottom + pad.left + pad.right > 0
    const lead = i === shapes.length - 1 ? 0x40 : 0
    const b: TensorBuffer = { at: 0, shape, pad, hp: shape.h + pad.top + pad.bottom, wp: shape.w + pad.left + pad.right, fillMin }
    // the output of a conv with its max pool fused in is never stored
    if (fused[i - 1]) return { ...b, at: at + lead }
    const size = lead + 32 * bufferWords(b)
    // written by step i − 1 (i − 2 when that conv absorbs a fused pool), read by step i (the input: row decode, −1)
    // and by any later step that names it in its `reads`
    const first = i === 0 ? -1 : fused[i - 2] ? i - 2 : i - 1
    const last = i === shapes.length - 1 ? Infinity : Math.max(i, lastReader.get(i) ?? -1)
    const halo = pad.top + pad.bottom + pad.left + pad.right > 0
    const clash = (from: number) => placed.some((q) => from < q.to && q.from < from + size && (halo || q.halo || (first <= q.last && q.first <= last)))
    const from = [base, ...placed.map((q) => q.to)].filter((f) => !clash(f)).reduce((a, f) => Math.min(a, f), Infinity)
    placed.push({ from, to: from + size, first, last, halo })
    at = Math.max(at, from + size)
    return { ...b, at: from + lead }
  })
  const outputs = shapes[shapes.length - 1]!
  const out = at
  at += 0x40 + words(outputs.c * outputs.h * outputs.w * outputBytes)
  // `fused`: a conv's output is never stored (its max or average pool runs inside it)
  const packed = steps.map((s, i) => {
    if (s.kind !== 'conv') return undefined
    // a step that reads its lane words from the blob as it multiplies (a dense layer) packs none: no memory for them
    if (readsBlobDirectly(s)) return { weights: at, biases: at }
    // a row-lane step (rowLanesPlan.ts) keeps a scalar per channel and tap, and a bias word per channel
    const rl = rowLanesOf(steps, i, fused)
    if (rl) {
      const p = { weights: at, biases: at + s.outShape.c * tapsOf(s) * 32 }
      at += rowLanesWords(s, rl) * 32
      return p
    }
    const groups = laneGroupsOf(s).length
    const p = { weights: at, biases: at + groups * tapsOf(s) * 32 }
    at = p.biases + groups * 32
    // a fused average pool (`fused` and an avgpool next): its sums after the bias words
    if (!fused[i] || steps[i + 1]?.kind !== 'avgpool') return p
    const sums = at
    at += 32 * s.outShape.c
    return { ...p, sums }
  })
  const joined = steps.map((s) => {
    if (s.kind !== 'conv' || (s.reads?.length ?? 0) < 2) return undefined
    const b: TensorBuffer = { at, shape: s.inShape, pad: NO_PAD, hp: 1, wp: 1, fillMin: false }
    at += 32 * s.inShape.c
    return b
  })
  return { blob, blobLayout, tensors, packed, joined, out, end: at }
}

/**
 * Irregular pooling windows, one list per spatial axis: for each output index the in-range input span
 * [start, end) and the length PyTorch divides by along that axis (an average's divisor is the product
 * over the axes). They arise from ceil_mode=True (the last window hangs over the end and is clipped) and
 * from adaptive pooling (windows of varying size, possibly overlapping).
 */
export type Span = { start: number; end: number; div: number }

/**
 * ceil_mode=True along one axis of n (kernel k, stride s, pads pb/pe, no dilation), as PyTorch computes
 * it: out = ceil((n + pb + pe − k) / s) + 1, less one if the last window would start in the end padding;
 * a window is clipped to [−pb, n + pe) for the count_include_pad divisor, to [0, n) for the values and the
 * in-range divisor. Undefined when ceil_mode changes nothing (the floor length is the same).
 */
export function ceilSpans(n: number, k: number, s: number, pb: number, pe: number, countIncludePad: boolean): Span[] | undefined {
  const floorOut = Math.floor((n + pb + pe - k) / s) + 1
  let out = Math.ceil((n + pb + pe - k) / s) + 1
  if ((out - 1) * s >= n + pb) out--
  if (out === floorOut) return undefined
  return Array.from({ length: out }, (_, o) => {
    const a = o * s - pb
    const bPad = Math.min(a + k, n + pe)
    const start = Math.max(a, 0)
    const end = Math.min(bPad, n)
    return { start, end, div: countIncludePad ? bPad - a : end - start }
  })
}

/** Adaptive pooling of n to `out` along one axis: window i is [floor(i·n/out), ceil((i+1)·n/out)). */
export function adaptiveSpans(n: number, out: number): Span[] {
  return Array.from({ length: out }, (_, i) => {
    const start = Math.floor((i * n) / out)
    const end = Math.ceil(((i + 1) * n) / out)
    return { start, end, div: end - start }
  })
}

/**
 * Every output position's window (row-major over the output): flat offsets `ih·inW + iw` within one
 * channel, and the average's divisor. A 1-D layer (one axis) is 2-D with height 1.
 */
export function spanWindows(spans: Span[][], inW: number): { offsets: number[]; div: number }[] {
  const [hs, ws] = spans.length === 2 ? [spans[0]!, spans[1]!] : [[{ start: 0, end: 1, div: 1 }], spans[0]!]
  const out: { offsets: number[]; div: number }[] = []
  for (const h of hs)
    for (const w of ws) {
      const offsets: number[] = []
      for (let y = h.start; y < h.end; y++) for (let x = w.start; x < w.end; x++) offsets.push(y * inW + x)
      out.push({ offsets, div: h.div * w.div })
    }
  return out
}

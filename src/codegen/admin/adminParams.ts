/** The PARAMS word a model appends to every call it forwards to the admin library (adminLibrary.ts), and its state mask. */

export type LayoutKind = 0 | 1 | 2 // datacontract | code | storage

export type AdminParams = {
  kind: LayoutKind
  /** Initial weights in the model's own code (datacontract layout); `code` always has them there. */
  embedded: boolean
  /**
   * The initial weights are PUSH-constant lane words and an update installs a kernel contract (its runtime
   * code ++ the canonical blob, one "chunk" created as is, no STOP byte) that predict DELEGATECALLs
   * (forwardingModel.ts); embedded too. Its commitment word is passed with the top bit set (so it is always a
   * PUSH32) and the commitment shifted right by one: `commitBit` is the bit that shift drops.
   */
  forwards?: boolean
  commitBit?: number
  chunks: number
  chunkSize: number
  lastChunk: number
  blobLength: number
  inputs: number
  outputs: number
  rowBytes: number
  outputBytes: number
  /** The activation scale as base^exponent (2^F or 10^d), for `info()`. */
  scaleBase: 2 | 10
  scaleExp: number
  /**
   * The inputs' scale in calldata as base^exponent (2^inputFraction, or the activation scale's exponent):
   * not read by any code, but a constant of the model's code, so that the code comparison of `verify` pins
   * the scale callers encode their rows at (plan.json's claim) like every other width and scale.
   */
  inputScaleExp: number
}

const FIELDS: [keyof AdminParams, number][] = [
  ['kind', 4], ['forwards', 4], ['embedded', 8], ['commitBit', 8], ['chunks', 16], ['chunkSize', 24], ['lastChunk', 24], ['blobLength', 32],
  ['inputs', 32], ['outputs', 32], ['rowBytes', 32], ['outputBytes', 8], ['scaleBase', 8], ['scaleExp', 8], ['inputScaleExp', 8],
]
/** Each field's bit offset in the PARAMS word: the fields in FIELDS order, from bit 0 up. */
export const OFFSET = {} as Record<keyof AdminParams, { at: number; bits: number }>
for (let i = 0, at = 0; i < FIELDS.length; at += FIELDS[i]![1], i++) OFFSET[FIELDS[i]![0]] = { at, bits: FIELDS[i]![1] }

/** The PARAMS word a model appends to every call it forwards to the library. */
export function adminParams(p: AdminParams): bigint {
  let w = 0n
  for (const [k, bits] of FIELDS) {
    const v = BigInt(typeof p[k] === 'boolean' ? Number(p[k]) : ((p[k] as number | undefined) ?? 0))
    if (v < 0n || v >= 1n << BigInt(bits)) throw new Error(`admin parameter ${k} = ${v} does not fit in ${bits} bits`)
    w |= v << BigInt(OFFSET[k].at)
  }
  return w
}

/** The XOR mask of the state word: what a fresh (all-zero) slot 2 means for this contract. */
export function stateMask(p: Pick<AdminParams, 'kind' | 'embedded' | 'chunks'>): bigint {
  if (p.kind !== 1 && !p.embedded) return 0n
  return (1n << 160n) | (1n << 248n) | (p.embedded ? BigInt(p.chunks) << 224n : 0n)
}


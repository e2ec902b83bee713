import { quantize } from './makePlan.ts'
import { categoryOf } from '../ir/categorical.ts'
import { inputScaleOf, type Plan } from './types.ts'

/** The safe input range in feature units: [inputMin, inputMax] at the input scale. */
export function safeInputRange(plan: Plan): [number, number] {
  const unit = Number(inputScaleOf(plan))
  return [Number(plan.inputMin) / unit, Number(plan.inputMax) / unit]
}

/** The input scale as text: `2^14`, or the activation scale's (`2^20`, `10^18`). */
export const inputScaleText = (plan: Plan) => (plan.decimals === undefined ? `2^${plan.inputFraction ?? plan.F}` : `10^${plan.decimals}`)

/** The calldata type of one feature: `int32`, or `uint16` for unsigned inputs. */
export const inputTypeText = (plan: Plan) => `${plan.inputUnsigned ? 'uint' : 'int'}${8 * plan.inputBytes}`

export type EncodedRow = { ok: true; values: bigint[] } | { ok: false; error: string }

/**
 * Quantise one row of float features to the input scale; out-of-range features are refused, never wrapped.
 * `names` (the CSV's feature columns) only make the error message clearer.
 */
export function encodeRow(plan: Plan, features: number[], names?: string[]): EncodedRow {
  const values: bigint[] = []
  for (let i = 0; i < features.length; i++) {
    const x = features[i]!
    const feature = names?.[i] ? `feature ${i} ('${names[i]}')` : `feature ${i}`
    if (!Number.isFinite(x)) return { ok: false, error: `${feature} is ${x}` }
    const cat = plan.categorical?.find((c) => c.column === i)
    const k = cat ? categoryOf(x, cat) : 0
    if (typeof k === 'string') return { ok: false, error: `${feature} = ${k}` }
    // far outside any calldata width (x·2^Fin may even overflow a double): refuse before quantising
    const fin = plan.inputFraction ?? plan.F
    const far = Math.abs(x) * 2 ** fin > 2 ** (8 * plan.inputBytes)
    const q = far ? 0n : plan.decimals === undefined ? quantize(x, fin) : quantize(x * 10 ** plan.decimals, 0)
    if (far || q > plan.inputMax || q < plan.inputMin) {
      const [lo, hi] = safeInputRange(plan)
      return { ok: false, error: `${feature} = ${x} is outside the safe input range [${lo}, ${hi}]` }
    }
    values.push(q)
  }
  return { ok: true, values }
}

/** Pack rows as the contract reads them: `inputBytes` per feature, big-endian two's complement. */
export function packRows(plan: Plan, rows: bigint[][]): `0x${string}` {
  const w = plan.inputBytes * 2
  let hex = '0x'
  for (const row of rows) for (const v of row) hex += BigInt.asUintN(8 * plan.inputBytes, v).toString(16).padStart(w, '0')
  return hex as `0x${string}`
}

/** One row as `predict`'s bytes32[⌈rowBytes/32⌉] argument: the packed row, zero-padded to whole words. */
export function packRowWords(plan: Plan, row: bigint[]): `0x${string}`[] {
  const hex = packRows(plan, [row]).slice(2)
  const words = Math.ceil(hex.length / 64)
  return Array.from({ length: words }, (_, k) => `0x${hex.slice(64 * k, 64 * k + 64).padEnd(64, '0')}` as `0x${string}`)
}

/** Unpack the Predictions event payload: `outputBytes` per output, signed. */
export function unpackOutputs(plan: Plan, data: `0x${string}`): bigint[][] {
  const w = plan.outputBytes * 2
  const per = plan.outputSize * w
  const hex = data.slice(2)
  const rows: bigint[][] = []
  for (let at = 0; at + per <= hex.length; at += per) {
    const row: bigint[] = []
    for (let j = 0; j < plan.outputSize; j++)
      row.push(BigInt.asIntN(8 * plan.outputBytes, BigInt('0x' + hex.slice(at + j * w, at + (j + 1) * w))))
    rows.push(row)
  }
  return rows
}

/** The class or value a raw output means: argmax for several outputs, > 0.5 for one sigmoid, else the value. */
export function interpret(plan: Plan, task: 'binary' | 'multiclass' | 'regression', raw: bigint[]): number {
  if (task === 'multiclass') {
    let best = 0
    for (let j = 1; j < raw.length; j++) if (raw[j]! > raw[best]!) best = j
    return best
  }
  const half = plan.scale / 2n
  if (task === 'binary') return plan.layers[plan.layers.length - 1]!.activation.kind === 'sigmoid' ? (raw[0]! > half ? 1 : 0) : raw[0]! > 0n ? 1 : 0
  return Number(raw[0]!) / Number(plan.scale)
}

/**
 * encodeRow straight into doubles (row `r` of `x`, width plan.inputSize), for the batched simulator: the
 * same rounding in the same double operations, and the same refusals (worded by encodeRow itself). With
 * calldata inputs of at most 48 bits every value and bound is exact in a double; wider inputs go through
 * encodeRow, and `exact` is false when a value is beyond 2^53 (the row then needs the BigInt simulator).
 */
export function encodeRowInto(plan: Plan, features: number[], names: string[] | undefined, x: Float64Array, r: number): { error: string } | { exact: boolean } {
  const n = plan.inputSize
  const viaBigInt = () => {
    const enc = encodeRow(plan, features, names)
    if (!enc.ok) return { error: enc.error }
    for (let i = 0; i < n; i++) {
      const v = Number(enc.values[i]!)
      if (!(Math.abs(v) < 2 ** 53)) return { exact: false }
      x[r * n + i] = v
    }
    return { exact: true }
  }
  if (plan.inputBytes > 6 || features.length !== n) return viaBigInt()
  const fin = plan.inputFraction ?? plan.F
  const unit = plan.decimals === undefined ? 2 ** fin : 10 ** plan.decimals
  const [lo, hi, width] = [Number(plan.inputMin), Number(plan.inputMax), 2 ** (8 * plan.inputBytes)]
  for (let i = 0; i < n; i++) {
    const f = features[i]!
    // quantize(): round half away from zero (exact below 2^52; integral already above)
    const scaled = f * unit
    const q = Math.abs(scaled) < 2 ** 52 ? (scaled < 0 ? -Math.round(-scaled) : Math.round(scaled)) : Math.round(scaled)
    // a refusal is worded by encodeRow (and a NaN or an infinity lands here too)
    if (!(Math.abs(f) * 2 ** fin <= width) || !(q <= hi && q >= lo)) return viaBigInt()
    x[r * n + i] = q
  }
  return { exact: true }
}

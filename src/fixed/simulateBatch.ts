import { denseRows } from './denseRows.ts'
import { encodeRow, encodeRowInto } from './encodeRows.ts'
import { activateRows, rowsFromBigInts, type NumericRows } from './numericRows.ts'
import { simulate } from './simulate.ts'
import { tensorRows } from './tensorRows.ts'
import type { Plan } from './types.ts'

/**
 * Whether the plan runs in the batched double path at all: a chain of dense layers, optionally after a
 * conv/pool stack. Sequence models (GRU/LSTM, attention), graph models (residual adds, concats, heads) and
 * nn.Embedding columns (the input expanded one-hot) run row by row (simulate.ts).
 */
export const batchable = (plan: Plan): boolean => !plan.recurrent && !plan.attention && !plan.categorical && plan.layers.every((l) => !l.input)

/**
 * The forward pass over a batch in doubles: the conv/pool stack, then each dense layer and its
 * activation. Rows whose numbers leave what doubles hold exactly come back with `ok[r] = 0`.
 */
export function forwardRows(plan: Plan, input: NumericRows): NumericRows {
  const ctx = { scale: plan.scale, slopeBits: plan.slopeBits }
  let b = plan.tensorLayers?.length ? tensorRows(plan.tensorLayers, input, ctx) : input
  for (const layer of plan.layers) {
    b = denseRows(layer, b)
    activateRows(b, layer.activation, layer.slopeQ, ctx)
  }
  return b
}

/**
 * The outputs of rows given as doubles (`x`: rows × inputSize, integers at the input scale), bit for bit
 * what simulate() (and the contract) computes: in doubles where every sum is proven exact, and with BigInt
 * (simulate) for any row where it is not. `bigRow(r)` gives row r's integers for that fallback.
 */
export function simulateNumericRows(plan: Plan, input: NumericRows, bigRow: (r: number) => bigint[]): bigint[][] {
  const out: bigint[][] = new Array(input.rows)
  const done = batchable(plan) ? forwardRows(plan, input) : undefined
  for (let r = 0; r < input.rows; r++) {
    if (done?.ok[r]) {
      const row = new Array<bigint>(done.width)
      for (let j = 0; j < done.width; j++) row[j] = BigInt(done.x[r * done.width + j]!)
      out[r] = row
    } else out[r] = simulate(plan, bigRow(r))
  }
  return out
}

/**
 * simulate() over many rows at once (vectorised over rows: each weight row is reused across a block of
 * rows, flat Float64Array buffers), bit-exact: the same integers as simulate() row by row, whatever the
 * batch size. Inputs beyond 2^53, sums that could reach it, sequence and graph models take the BigInt path.
 */
export function simulateBatch(plan: Plan, inputs: bigint[][]): bigint[][] {
  if (!batchable(plan) || inputs.length === 0) return inputs.map((x) => simulate(plan, x))
  return simulateNumericRows(plan, rowsFromBigInts(inputs, plan.inputSize), (r) => inputs[r]!)
}

/**
 * The simulator on rows of float features, each encoded exactly as encodeRow encodes it (straight into
 * doubles: encodeRowInto) and answered in one batch: undefined for a row outside the safe input range.
 * What precision selection runs for every candidate width.
 */
export function simulateFeatures(plan: Plan, rows: number[][]): (bigint[] | undefined)[] {
  const n = plan.inputSize
  const x = new Float64Array(rows.length * n)
  const ok = new Uint8Array(rows.length)
  const kept: number[] = [] // the index of each accepted row
  for (const [i, f] of rows.entries()) {
    const e = encodeRowInto(plan, f, undefined, x, kept.length)
    if ('error' in e) continue
    ok[kept.length] = e.exact ? 1 : 0
    kept.push(i)
  }
  const batch: NumericRows = { rows: kept.length, width: n, x: x.subarray(0, kept.length * n), ok: ok.subarray(0, kept.length) }
  const outs = simulateNumericRows(plan, batch, (r) => (encodeRow(plan, rows[kept[r]!]!) as { values: bigint[] }).values)
  const answers: (bigint[] | undefined)[] = new Array(rows.length).fill(undefined)
  kept.forEach((i, r) => (answers[i] = outs[r]))
  return answers
}

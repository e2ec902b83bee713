import { cellsOf, layersOf, readoutOf, type ReadoutPiece } from '../ir/recurrentTypes.ts'

/**
 * Fixed-point plan of a GRU/LSTM (ir/recurrentTypes.ts). Every gate row is an accumulator
 * acc = bq + Σ wq·x (+ Σ wq·h), then SAR by `wShift` (floor; the half-ulp in bq rounds it to nearest): the
 * gate's pre-activation at 2^F. The rows are grouped in blocks, each computed with SIMD lane words:
 * - GRU: `rz` (the r and z rows over [x, h], biases b_ih + b_hh), `nx` (n rows over x, b_in), `nh` (n rows over h, b_hn);
 * - LSTM: `ifgo` (all rows over [x, h], biases b_ih + b_hh).
 * Then per hidden unit, at scale S = 2^F (every product SAR'd back with + S/2, so rounded to nearest):
 * - GRU: r = σ(rz_i), z = σ(rz_{H+i}), n = tanh(nx_i + (r·nh_i + S/2) >> F), h' = n + (z·(h − n) + S/2) >> F;
 * - LSTM: i, f, o = σ(·), g = tanh(·), c' = (f·c + i·g + S/2) >> F, h' = (o·tanh(c') + S/2) >> F.
 */
export type RecurrentBlock = {
  name: 'rz' | 'nx' | 'nh' | 'ifgo'
  /** Rows of weight_ih/weight_hh it takes (gate-stacked indices). */
  rows: number[]
  /** Whether its columns include the inputs x (F of them) and the state h (H of them), in that order. */
  x: boolean
  h: boolean
  /** wq[row][column] over the block's columns; biases per row (the half-ulp included). */
  weights: bigint[][]
  biases: bigint[]
  laneBits: number
  lanes: number
  accMax: bigint
}

export type RecurrentPlan = {
  kind: 'gru' | 'lstm'
  name: string
  steps: number
  features: number
  hidden: number
  wShift: number
  blocks: RecurrentBlock[]
  /** Interval analysis: |h_t| ≤ hMax at every step; LSTM |c_t| ≤ cMax (grows by ≤ S + 1 a step). */
  hMax: bigint
  cMax: bigint
  /** num_layers = 2: the layer stacked on this one (its inputs are this layer's h_t, every direction's, |h| ≤ S). */
  next?: RecurrentPlan
  /** bidirectional: this layer's reverse cell (runs from the last step to the first). */
  reverse?: RecurrentPlan
  /** The root only: what the dense layers take (ir/recurrentTypes.ts); absent: the top layer's last state. */
  readout?: ReadoutPiece[]
}

/** What the contract's code fixes of a recurrent layer (a deployed model's update must keep it). */
export const cellPinOf = (r: RecurrentPlan): [string, number, ...[number, number][]] => [r.kind, r.wShift, ...r.blocks.map((b): [number, number] => [b.laneBits, b.lanes])]
export const recurrentPinOf = (r: RecurrentPlan): string =>
  r.reverse || r.readout
    ? JSON.stringify([...cellsOf(r).map(cellPinOf), { layers: layersOf(r).length, dirs: r.reverse ? 2 : 1, readout: readoutOf(r).map((p) => [p.layer, p.dir, p.t]) }])
    : JSON.stringify(r.next ? [cellPinOf(r), cellPinOf(r.next)] : cellPinOf(r))

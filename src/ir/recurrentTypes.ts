/**
 * A recurrent layer (nn.GRU / nn.LSTM, one layer, unidirectional) over a fixed window of T steps of F
 * features; the input tensor is [T, F] (batch_first or not: one sample), flattened in C order (step-major),
 * which is how the CSV's feature columns hold it. Its output is the last hidden state h_T (= out[:, -1, :]
 * = h_n[-1]), which the dense `layers` of the model take.
 *
 * Weights as PyTorch stores them: weight_ih [G·H][F], weight_hh [G·H][H], bias_ih, bias_hh [G·H], with the
 * gates stacked in PyTorch's order: GRU (G = 3) r, z, n; LSTM (G = 4) i, f, g, o.
 */
export type RecurrentLayer = {
  kind: 'gru' | 'lstm'
  /** PyTorch module path (`gru`, `rnn`) or ONNX node name. */
  name: string
  steps: number
  features: number
  hidden: number
  weightIh: number[][]
  weightHh: number[][]
  biasIh: number[]
  biasHh: number[]
  /** num_layers = 2: the layer stacked on this one (its `features` = this `hidden` × directions; tensors `_l1`). */
  next?: RecurrentLayer
  /** bidirectional: this layer's reverse direction (tensors `_l0_reverse`), run from the last step to the first. */
  reverse?: RecurrentLayer
  /** The root only: what the dense layers take (absent: the top layer's last state, out[:, -1, :] of a one-direction model). */
  readout?: ReadoutPiece[]
}

/**
 * One H-vector the dense layers take: layer `layer`'s direction `dir` state at time position `t` (0 … T−1, in
 * sequence order). PyTorch's forms: out[:, k, :] = the top layer's (dir 0, t = k) then (dir 1, t = k);
 * h_n[l·D + d] = layer l's direction d final state (dir 0: t = T−1; dir 1, which runs backwards: t = 0);
 * out.reshape(B, −1) = every t, each both directions.
 */
export type ReadoutPiece = { layer: number; dir: 0 | 1; t: number }

/** The cells of a stacked (bidirectional) GRU/LSTM, bottom first, each layer's forward cell before its reverse one. */
export const cellsOf = <T extends { next?: T; reverse?: T }>(r: T): T[] => [r, ...(r.reverse ? [r.reverse] : []), ...(r.next ? cellsOf(r.next) : [])]

/** The layers of a stacked GRU/LSTM, bottom first (their reverse cells hang on each). */
export const layersOf = <T extends { next?: T }>(r: T): T[] => (r.next ? [r, ...layersOf(r.next)] : [r])

/** The pieces the dense layers take: the readout, or the top layer's last state. */
export const readoutOf = (r: { readout?: ReadoutPiece[]; steps: number; next?: unknown }): ReadoutPiece[] => r.readout ?? [{ layer: layersOf(r as { next?: never }).length - 1, dir: 0, t: r.steps - 1 }]

/** A piece that is a final state (its cell's h after the loop): dir 0 at t = T−1, dir 1 at t = 0. */
export const isFinal = (p: ReadoutPiece, T: number) => p.t === (p.dir ? 0 : T - 1)

export const gatesOf = (kind: RecurrentLayer['kind']) => (kind === 'gru' ? 3 : 4)

/**
 * What forward() hands the Linear layers, before T and the layer count are known: h_n[i] (i < 0 from the end;
 * 'only': h_n.squeeze(0) of a one-layer one-direction module; 'all': every entry), out[:, k, :], or the whole
 * output sequence flattened (out.reshape(B, −1)).
 */
export type ReadoutSpec = { hn: number | 'only' | 'all' } | { out: number } | { seq: true }

/** An architecture step: a GRU/LSTM module whose tensors are `<name>.weight_ih_l0` and so on. */
export type RecurrentStep = { op: 'gru' | 'lstm'; name: string; hidden?: number; batchFirst?: boolean; readout?: ReadoutSpec[] }

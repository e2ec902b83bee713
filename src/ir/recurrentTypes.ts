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
  /** num_layers = 2: the layer stacked on this one (its `features` = this `hidden`; tensors `_l1`). */
  next?: RecurrentLayer
}

/** The cells of a stacked GRU/LSTM, bottom first. */
export const cellsOf = <T extends { next?: T }>(r: T): T[] => (r.next ? [r, ...cellsOf(r.next)] : [r])

export const gatesOf = (kind: RecurrentLayer['kind']) => (kind === 'gru' ? 3 : 4)

/** An architecture step: a GRU/LSTM module whose tensors are `<name>.weight_ih_l0` and so on. */
export type RecurrentStep = { op: 'gru' | 'lstm'; name: string; hidden?: number; batchFirst?: boolean }

/** The activation after a layer (every layer kind takes one). */
export type Activation =
  | { kind: 'identity' }
  | { kind: 'relu' }
  | { kind: 'leaky_relu'; slope: number }
  | { kind: 'sigmoid' }
  | { kind: 'tanh' }
  | { kind: 'softmax' }

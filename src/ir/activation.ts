/** The activation after a layer (every layer kind takes one). Each kind is one op of ./ops/ (the op registry). */
export type Activation =
  | { kind: 'identity' }
  | { kind: 'relu' }
  | { kind: 'leaky_relu'; slope: number }
  | { kind: 'sigmoid' }
  | { kind: 'tanh' }
  | { kind: 'softmax' }
  /** a clamp to [min, max]: nn.Hardtanh(min, max), nn.ReLU6 = hardtanh(0, 6), ONNX Clip */
  | { kind: 'hardtanh'; min: number; max: number }
  | { kind: 'hardsigmoid' }
  | { kind: 'hardswish' }
  | { kind: 'elu'; alpha: number }
  | { kind: 'silu' }
  /** approximate: 'none' (the exact erf form, PyTorch's default) or 'tanh' */
  | { kind: 'gelu'; approximate: 'none' | 'tanh' }
  /** PyTorch's nn.Softplus(beta=1, threshold): x above the threshold is returned as is */
  | { kind: 'softplus'; threshold: number }
  | { kind: 'mish' }
  /** log-probabilities over the output vector (the last layer only) */
  | { kind: 'log_softmax' }
  /**
   * nn.LayerNorm over the last dim (groups 1) or nn.GroupNorm on (N, C) vectors (`groups` groups of consecutive
   * features): (x − mean) / √(var + eps) per group, then gamma ⊙ · + beta when affine (absent: folded or none)
   */
  | { kind: 'layer_norm'; size: number; groups: number; eps: number; gamma?: number[]; beta?: number[] }
  /** a per-feature x · scale + shift: BatchNorm1d (eval) where no Linear is next to fold it into */
  | { kind: 'affine'; scale: number[]; shift: number[] }

import type { Activation } from './activation.ts'
import type { AttentionLayer, AttentionStep } from './attentionTypes.ts'
import type { RecurrentLayer, RecurrentStep } from './recurrentTypes.ts'
import type { TensorLayer, TensorStep } from './tensorTypes.ts'
import type { LayerInput } from './layerInput.ts'
import type { CategoricalInput, EmbedPiece } from './categorical.ts'

export type { LayerInput }

export type { Activation }

/**
 * The model IR every loader produces: a chain of dense layers, each followed by one activation.
 * Weights are float64 as PyTorch stored them (float16/bfloat16/float32 widened exactly).
 */

export type DenseLayer = {
  /** A readable name: the PyTorch module path (`fc1`, `0`, `net.2`) or ONNX node name. */
  name: string
  /** weight[out][in], as nn.Linear stores it. */
  weight: number[][]
  bias: number[]
  activation: Activation
  /** A graph model: what this layer reads when it is not the previous layer's output (./layerInput.ts). */
  input?: LayerInput
  /** A module applied again (a loop over one nn.Linear): the earlier layer whose weights it uses (./sharedLayers.ts). */
  shares?: number
}

export type Task = 'binary' | 'multiclass' | 'regression'

/**
 * Convolutional models: a stack of tensor layers on [C, ...spatial] tensors (spatial = [L] for 1-D,
 * [H, W] for 2-D), then an implicit flatten in C order, then the dense `layers`. Types in ./tensorTypes.ts.
 */
export type ModelIR = {
  /** The format the loader detected, e.g. `onnx`, `state_dict-json`, `state_dict-pt`, `torchscript`. */
  format: string
  /** The flattened input size (C·H·W for a convolutional model): the CSV's feature columns. */
  inputSize: number
  /** Convolutional models only: the input tensor's shape [C, H, W] or [C, L]. */
  inputShape?: number[]
  /** Convolutional models only: conv/pool layers before the flatten (empty or absent for an MLP). */
  tensorLayers?: TensorLayer[]
  /** Sequence models only: a GRU/LSTM over inputShape [T, F] whose last hidden state the dense layers take (recurrentTypes.ts). */
  recurrent?: RecurrentLayer
  /** Tabular models with nn.Embedding: the CSV columns that hold category indices; layers[0] reads the expanded input (./categorical.ts). */
  categorical?: CategoricalInput[]
  /** Sequence models only: self-attention over inputShape [T, E], pooled, whose output the dense layers take (attentionTypes.ts). */
  attention?: AttentionLayer
  layers: DenseLayer[]
  /**
   * A multi-output model (forward returns a tuple, an ONNX graph with several outputs): the output vector
   * is every head's outputs one after another, in this order (./heads.ts). Absent: one output.
   */
  heads?: Head[]
}

/** One output of a multi-output model: its name (the returned variable, `out0`, the ONNX output) and width. */
export type Head = { name: string; size: number }

/**
 * An architecture step before weights are attached: what `model.layers`, `model.source` or a pickled
 * module tree describes. `linear` steps name the state_dict prefix that holds their weights.
 */
export type ArchStep =
  | { op: 'linear'; name: string; perStep?: true } // perStep: applied at every time step of a GRU/LSTM's sequence
  | TensorStep
  | RecurrentStep
  | AttentionStep
  | { op: 'activation'; activation: Activation; name?: string }
  | { op: 'batchnorm'; name: string; eps?: number }
  /**
   * nn.LayerNorm over the last dim (groups 1), nn.GroupNorm on (N, C) vectors, F.layer_norm: `weight`/`bias`
   * name γ/β in the state_dict (absent tensors: no affine); `size` the normalised width when known.
   */
  | { op: 'norm'; name: string; what: 'LayerNorm' | 'GroupNorm'; groups: number; eps: number; size?: number; weight?: string; bias?: string }
  | { op: 'prelu'; name: string } // nn.PReLU: its slopes are the tensor `<name>.weight` (resolvePrelu)
  | { op: 'skip'; name?: string } // Dropout, Identity: nothing at inference
  /** `x - self.mean`, `x / self.std`, `x * self.scale` with a registered buffer (the state_dict's `<name>`): folded into a Linear like BatchNorm. */
  | { op: 'affine'; name: string; how: 'sub' | 'div' | 'mul' }
  | { op: 'flatten'; name?: string } // Flatten, torch.flatten, x.view(N, -1): the tensor → vector boundary
  /**
   * A residual add or torch.cat: the value so far goes down each branch (steps from that value; an empty
   * branch is the value itself) and the branches' results are summed or concatenated (buildGraph.ts).
   */
  /** dim -1: torch.cat(…, dim=-1) / ONNX Concat axis=-1, the features of a vector but the last spatial axis of a conv tensor (refused there). */
  | { op: 'join'; kind: 'add' | 'concat'; branches: ArchStep[][]; name?: string; dim?: -1 }
  /** The model's input as cat([emb(x[:, i]), …, x[:, a:b]], dim=1): folded through the next Linear (foldEmbedding.ts). */
  | { op: 'embedcat'; pieces: EmbedPiece[]; name?: string }
  /** `return a, b`: several outputs, each the steps of its branch from the shared value (the model's last step). */
  | { op: 'heads'; names: string[]; branches: ArchStep[][] }

/** A flat tensor map, as a state_dict: name → { shape, data (row-major float64) }. */
export type Tensor = { shape: number[]; data: Float64Array }
export type TensorMap = Map<string, Tensor>

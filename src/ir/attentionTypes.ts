import type { Activation } from './activation.ts'

/**
 * Self-attention (nn.MultiheadAttention with query = key = value = x) over a fixed window of T tokens of
 * E = embed_dim features; the input tensor is [T, E] (batch_first or not: one sample), flattened token by
 * token, which is how the CSV's feature columns hold it. Then a pooling of the T output tokens that the
 * dense `layers` take: `mean` over the tokens (E values), the `last` token (E values) or `flatten` (T·E).
 *
 * Weights as PyTorch stores them: in_proj_weight [3E][E] (the q, k, v rows stacked), in_proj_bias [3E],
 * out_proj.weight [E][E], out_proj.bias [E]. Heads split the E dimensions in `heads` slices of E/heads.
 */
export type AttentionLayer = {
  /** nn.TransformerEncoderLayer: the attention inside it (self_attn), then the block below, per token. */
  encoder?: EncoderBlock
  kind: 'mha'
  /** PyTorch module path (`attn`). */
  name: string
  tokens: number
  embed: number
  heads: number
  pool: AttentionPool
  inProjWeight: number[][]
  inProjBias: number[]
  outProjWeight: number[][]
  outProjBias: number[]
}

/**
 * `sum`: Σ over the tokens (an encoder's mean pooling, its 1/T folded into the next Linear's weights).
 */
export type AttentionPool = 'mean' | 'last' | 'flatten' | 'sum'

export type LayerNormAct = Extract<Activation, { kind: 'layer_norm' }>

/**
 * The rest of an nn.TransformerEncoderLayer (eval: dropout is nothing), per token, after self-attention SA:
 * norm_first=False: h = LN1(x + SA(x)), y = LN2(h + FF(h)); norm_first=True: h = x + SA(LN1(x)), y = h + FF(LN2(h));
 * FF(h) = linear2(act(linear1(h))), act relu or gelu.
 */
export type EncoderBlock = {
  name: string
  normFirst: boolean
  act: Activation
  ff1: { weight: number[][]; bias: number[] }
  ff2: { weight: number[][]; bias: number[] }
  norm1: LayerNormAct
  norm2: LayerNormAct
}

/** Architecture steps: the MultiheadAttention module, then how its output sequence becomes a vector. */
export type AttentionStep = { op: 'mha'; name: string; heads?: number; embed?: number; batchFirst?: boolean; encoder?: { name: string; normFirst: boolean; act: Activation; eps: number } } | { op: 'seqpool'; how: AttentionPool; name?: string }

/** The largest window ml2sc runs on chain. */
export const MAX_TOKENS = 32

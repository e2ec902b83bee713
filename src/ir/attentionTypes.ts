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

export type AttentionPool = 'mean' | 'last' | 'flatten'

/** Architecture steps: the MultiheadAttention module, then how its output sequence becomes a vector. */
export type AttentionStep = { op: 'mha'; name: string; heads?: number; embed?: number; batchFirst?: boolean } | { op: 'seqpool'; how: AttentionPool; name?: string }

/** The largest window ml2sc runs on chain. */
export const MAX_TOKENS = 32

import type { AttentionPool, EncoderBlock } from '../ir/attentionTypes.ts'

/**
 * Fixed-point plan of a self-attention layer (ir/attentionTypes.ts), at the activation scale S = 2^F.
 * Three weight blocks, each row an accumulator acc = bq + Σ wq·x, SAR by the block's `wShift` (floor; the
 * half-ulp in bq rounds it to nearest), computed with SIMD lane words like the dense layers:
 * - `q`: the query rows of in_proj, with 1/sqrt(d) folded in (d = E / heads), over a token's E inputs;
 * - `kv`: the key and value rows of in_proj over a token's E inputs;
 * - `out`: out_proj over the attended values; for mean pooling its weights are out_proj.weight / T and it
 *   runs once on Σ_i o_i (mean_i(Wo·o_i + bo) = (Wo/T)·Σ_i o_i + bo).
 * Then per head h and query i (every token; only the last one for `last` pooling):
 *   s_ij = (Σ_{d∈h} q_i[d]·k_j[d] + S/2) >> F, a_i = softmax(s_i) (ir/ops/softmax.ts: softmaxFixed, a_ij ∈ [0, S]);
 *   `last`/`flatten`: o_i[d] = (Σ_j a_ij·v_j[d] + S/2) >> F;
 *   `mean`: c_j = Σ_i a_ij, then Σo[d] = (Σ_j c_j·v_j[d] + S/2) >> F.
 */
export type AttentionBlock = {
  name: 'q' | 'kv' | 'out' | 'ff1' | 'ff2'
  weights: bigint[][]
  biases: bigint[]
  wShift: number
  laneBits: number
  lanes: number
  accMax: bigint
}

export type AttentionPlan = {
  kind: 'mha'
  name: string
  tokens: number
  embed: number
  heads: number
  pool: AttentionPool
  /** q, kv, out; an encoder's ff1 (linear1) and ff2 (linear2) after them. */
  blocks: AttentionBlock[]
  /** A TransformerEncoderLayer: its norms and activation as the float IR has them (the ops quantise them alike on chain and off). */
  encoder?: Pick<EncoderBlock, 'normFirst' | 'act' | 'norm1' | 'norm2'>
  /** Interval analysis: |q|, |k|, |v| ≤ these (per row of the block), |s_ij| ≤ scoreMax, |Σ a·v| terms ≤ attendMax. */
  qMax: bigint[]
  kvMax: bigint[]
  scoreMax: bigint
  attendMax: bigint
  /** |out_proj output| ≤ outMax per row: what the first dense layer takes. */
  outMax: bigint[]
}

/** What the contract's code fixes of an attention layer (a deployed model's update must keep it). */
export const attentionPinOf = (a: AttentionPlan): string => JSON.stringify(['mha', a.pool, a.heads, ...(a.encoder ? [JSON.stringify(a.encoder)] : []), ...a.blocks.map((b) => [b.wShift, b.laneBits, b.lanes])])

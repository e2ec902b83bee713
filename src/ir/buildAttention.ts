import { ModelError } from '../errors/base.ts'
import { MAX_TOKENS, type AttentionLayer, type AttentionStep } from './attentionTypes.ts'
import { buildEncoder } from './buildEncoder.ts'
import type { Tensor } from './types.ts'

const rows = (t: Tensor): number[][] => Array.from({ length: t.shape[0]! }, (_, o) => Array.from(t.data.subarray(o * t.shape[1]!, (o + 1) * t.shape[1]!)))

/**
 * A MultiheadAttention step with its tensors (`<name>.in_proj_weight`, `in_proj_bias`, `out_proj.weight`,
 * `out_proj.bias`) and the pooling after it, over the window `inputShape` [T, E]. Refused: separate q/k/v
 * projections (kdim/vdim ≠ embed_dim), bias_k/bias_v, a window longer than MAX_TOKENS, heads that do not
 * divide E, an input shape that is not [T, E].
 */
export function buildAttention(
  step: Extract<AttentionStep, { op: 'mha' }>,
  pool: Extract<AttentionStep, { op: 'seqpool' }> | undefined,
  inputShape: number[] | undefined,
  take: (key: string, what: string) => Tensor,
  peek: (key: string) => Tensor | undefined,
  use: (key: string) => void,
  file: string,
): AttentionLayer {
  const what = `MultiheadAttention '${step.name}'`
  const p = `${step.name}.`
  if (peek(`${p}q_proj_weight`)) throw new ModelError(`${what} has separate q/k/v projections (kdim/vdim ≠ embed_dim): not supported on chain`, { where: file, hint: 'use self-attention with kdim = vdim = embed_dim' })
  if (peek(`${p}bias_k`) || peek(`${p}bias_v`)) throw new ModelError(`${what} has add_bias_kv: not supported on chain`, { where: file, hint: 'use add_bias_kv=False' })
  if (!pool) throw new ModelError(`${what}'s output sequence must be pooled before the Linear head: mean over the tokens, the last token or a flatten`, { where: file, hint: 'e.g. self.fc(a.mean(dim=1)), self.fc(a[:, -1, :]) or self.fc(a.flatten(1))' })
  if (!inputShape || inputShape.length !== 2)
    throw new ModelError(`${what} needs the input window as model.inputShape: [T, E] (tokens, embed_dim)${inputShape ? `; got [${inputShape}]` : ''}`, {
      where: 'model.inputShape',
      hint: 'e.g. inputShape: [16, 8] for 16 tokens of 8 features; the CSV holds the window token by token',
    })
  const [T, E] = inputShape as [number, number]
  if (T > MAX_TOKENS) throw new ModelError(`${what} over ${T} tokens: at most ${MAX_TOKENS} on chain`, { where: 'model.inputShape', hint: `use a window of ≤ ${MAX_TOKENS} tokens` })
  const wi = take(`${p}in_proj_weight`, what)
  const wo = take(`${p}out_proj.weight`, what)
  const Ew = wo.shape[0]!
  if (wi.shape.join() !== `${3 * Ew},${Ew}` || wo.shape.join() !== `${Ew},${Ew}`)
    throw new ModelError(`${what}: in_proj_weight [${wi.shape}] / out_proj.weight [${wo.shape}] are not an attention's [3E, E] / [E, E]`, { where: file })
  if (step.embed !== undefined && step.embed !== Ew) throw new ModelError(`${what} is declared with embed_dim ${step.embed} but its weights have ${Ew}`, { where: file })
  if (E !== Ew) throw new ModelError(`${what} takes tokens of ${Ew} features but model.inputShape is [${T}, ${E}]`, { where: 'model.inputShape', hint: `use [T, ${Ew}]` })
  const heads = step.heads ?? 1
  if (!Number.isInteger(heads) || heads < 1 || heads > 4 || E % heads !== 0)
    throw new ModelError(`${what} has ${heads} heads: ml2sc runs 1 to 4 heads that divide embed_dim ${E}`, { where: file, hint: 'num_heads in 1..4' })
  const bias = (k: string, n: number) => {
    const b = peek(`${p}${k}`)
    if (!b) return new Array<number>(n).fill(0)
    use(`${p}${k}`)
    if (b.shape.length !== 1 || b.shape[0] !== n) throw new ModelError(`'${p}${k}' has shape [${b.shape}], expected [${n}]`, { where: file })
    return Array.from(b.data)
  }
  const encoder = step.encoder ? buildEncoder(step.encoder, E, take, peek, use, file) : undefined
  // an encoder's mean pooling sums the tokens; attentionModel folds the 1/T into the first Linear
  const how = encoder && pool.how === 'mean' ? 'sum' : pool.how
  return { ...(encoder ? { encoder } : {}), kind: 'mha', name: step.name, tokens: T, embed: E, heads, pool: how, inProjWeight: rows(wi), inProjBias: bias('in_proj_bias', 3 * E), outProjWeight: rows(wo), outProjBias: bias('out_proj.bias', E) }
}

/** What the pooled attention output gives the first Linear: E values, or T·E for a flatten. */
export const attentionWidth = (a: AttentionLayer) => (a.pool === 'flatten' ? a.tokens * a.embed : a.embed)

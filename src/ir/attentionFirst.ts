import { ModelError } from '../errors/base.ts'
import type { AttentionLayer } from './attentionTypes.ts'
import { attentionWidth, buildAttention } from './buildAttention.ts'
import { HEADS_LAYER } from './heads.ts'
import type { ArchStep, DenseLayer, Head, ModelIR, Tensor } from './types.ts'

/**
 * A model whose first step is a MultiheadAttention (self-attention) and its pooling: both are taken off
 * `steps` (in place) and built; the rest are the dense head. Undefined when the model has no attention.
 */
export function attentionFirst(
  steps: ArchStep[],
  inputShape: number[] | undefined,
  take: (key: string, what: string) => Tensor,
  peek: (key: string) => Tensor | undefined,
  use: (key: string) => void,
  file: string,
): AttentionLayer | undefined {
  const a = steps.findIndex((st) => st.op === 'mha')
  if (a < 0) {
    const pool = steps.find((st) => st.op === 'seqpool')
    if (pool) throw new ModelError('a pooling over tokens with no MultiheadAttention before it', { where: file })
    return undefined
  }
  const st = steps[a]!
  if (st.op !== 'mha') throw new Error('unreachable')
  const before = steps.slice(0, a).find((x) => x.op !== 'skip')
  if (before) throw new ModelError(`MultiheadAttention '${st.name}' must be the model's first layer on chain (found ${before.op} before it)`, { where: file, hint: 'a token-wise Linear embedding before it is not supported yet' })
  const next = steps[a + 1]
  const pool = next?.op === 'seqpool' ? next : undefined
  if (!pool && next && next.op !== 'linear') throw new ModelError(`MultiheadAttention '${st.name}' is followed by ${next.op}: ml2sc supports a pooling (mean, last token, flatten) then Linear heads`, { where: file })
  const again = steps.slice(a + 1).find((x) => x.op === 'mha' || x.op === 'gru' || x.op === 'lstm')
  if (again) throw new ModelError(`a second sequence layer ('${'name' in again ? again.name : ''}') after MultiheadAttention is not supported on chain yet`, { where: file, hint: 'one attention layer, a pooling, then Linear heads' })
  const layer = buildAttention(st, pool, inputShape, take, peek, use, file)
  steps.splice(0, a + (pool ? 2 : 1))
  return layer
}

/** The IR of an attention model once its dense head is built. */
export function attentionModel(format: string, attention: AttentionLayer, layers: DenseLayer[], file: string, heads?: Head[]): ModelIR {
  // a multi-output model's heads read the pooled value (value 0) or a layer's output, then `heads` concatenates them
  const joined = layers.find((l) => l.input && !(heads && l.input.op === 'concat' && !l.input.post))
  if (joined) throw new ModelError(`layer '${joined.name}' reads a residual sum, concatenation or skipped value after MultiheadAttention`, { where: file, hint: 'Linear heads only after the attention' })
  const width = attentionWidth(attention)
  if (!layers.length) throw new ModelError(`MultiheadAttention '${attention.name}' needs a Linear head after its pooling`, { where: file })
  if (layers[0]!.weight[0]!.length !== width)
    throw new ModelError(`Linear '${layers[0]!.name}' takes ${layers[0]!.weight[0]!.length} inputs but MultiheadAttention '${attention.name}' pooled by ${attention.pool} gives ${width}`, { where: file })
  // an encoder's mean over the tokens: each Linear reading it takes their sum, its weights divided by T (the same function)
  const readsPool = (l: DenseLayer, i: number) => (l.input ? l.input.values.includes(0) : i === 0)
  const raw = layers.find((l, i) => i > 0 && l.name === HEADS_LAYER && readsPool(l, i))
  if (attention.pool === 'sum' && raw) throw new ModelError(`an output is the mean over the tokens itself, with no Linear after it (pooled as a sum on chain)`, { where: file, hint: 'end each returned output in a Linear layer' })
  const head = attention.pool === 'sum' ? layers.map((l, i) => (readsPool(l, i) ? { ...l, weight: l.weight.map((r) => r.map((w) => w / attention.tokens)) } : l)) : layers
  return { format, inputSize: attention.tokens * attention.embed, inputShape: [attention.tokens, attention.embed], attention, layers: head, ...(heads ? { heads } : {}) }
}

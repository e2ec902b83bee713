import type { AttentionPool } from '../../ir/attentionTypes.ts'
import type { ArchStep } from '../../ir/types.ts'

/** The output sequence of a MultiheadAttention / TransformerEncoderLayer in TorchScript code, before its pooling. */
export type AttnVal = { k: 'attn'; steps: ArchStep[]; bf: boolean }
type ArgVal = { k: string; v?: unknown; steps?: ArchStep[] }

/**
 * A scripted nn.MultiheadAttention or nn.TransformerEncoderLayer called in TorchScript code, read without running
 * anything: `(attn).forward(x, x, x, None, need_weights, None, average, )` returns (output, weights);
 * `(enc).forward(x, None, None, )` the output. `steps` are readPt's for the module (heads, the encoder's
 * activation); batch_first and norm_first come from the classes' `Final` constants. A trace keeps neither
 * num_heads nor batch_first (they sit in its shape arithmetic): refused with a line asking for model.source.
 */
export function attentionCall(short: string, steps: ArchStep[], finals: (what: 'self' | 'attn') => Map<string, string> | undefined, args: ArgVal[]): AttnVal | { k: 'tuple'; items: (AttnVal | { k: 'const'; v: null })[] } | string {
  const x = args[0]
  if (x?.k !== 'tensor') return `${short} not applied to the input chain`
  const isNone = (a: ArgVal | undefined) => a === undefined || (a.k === 'const' && a.v === null)
  const mha = short === 'MultiheadAttention'
  const st = steps[0]
  if (st?.op !== 'mha') return `${short} not read as attention`
  if (args.length === 1) {
    // traced: the module's own traced code gave num_heads and batch_first (tracedAttention), or nothing did
    if (st.heads === undefined) return `a traced ${short} does not record num_heads where ml2sc reads it; give model.source`
    return { k: 'attn', steps: [...(x.steps ?? []), st], bf: st.batchFirst === true }
  }
  if (mha && (args[1] !== x || args[2] !== x)) return 'MultiheadAttention with query, key and value not all the input (cross-attention)'
  const masks = mha ? [args[3], args[5]] : [args[1], args[2]]
  if (masks.some((m) => !isNone(m))) return `${short} with a mask`
  const bf = finals('attn')?.get('batch_first') === 'True'
  const encoder = st.encoder ? { ...st.encoder, normFirst: finals('self')?.get('norm_first') === 'True' } : undefined
  const val: AttnVal = { k: 'attn', steps: [...(x.steps ?? []), { ...st, batchFirst: bf, ...(encoder ? { encoder } : {}) }], bf }
  return mha ? { k: 'tuple', items: [val, { k: 'const', v: null }] } : val
}

/**
 * torch.<fn>(a, …) on an attention output: torch.mean(a, [token dim]) → mean, torch.select(a, token dim, −1) → the
 * last token, torch.slice(a) over the whole batch (a[:, -1, :]'s first half) → a, torch.flatten(a, 1) of a
 * batch_first sequence → flatten. Anything else: a line saying so.
 */
export function attentionPool(fn: string, a: AttnVal, rest: ArgVal[]): AttnVal | { k: 'tensor'; steps: ArchStep[] } | string {
  const t = a.bf ? 1 : 0
  const c = (i: number) => (rest[i]?.k === 'const' ? rest[i]!.v : undefined)
  const pool = (how: AttentionPool) => ({ k: 'tensor' as const, steps: [...a.steps, { op: 'seqpool' as const, how }] })
  const dim = (d: unknown) => d === t || d === t - 3
  if (fn === 'torch.mean' && Array.isArray(c(0)) && (c(0) as unknown[]).length === 1 && dim((c(0) as unknown[])[0]) && !c(1)) return pool('mean')
  if (fn === 'torch.select' && dim(c(0)) && c(1) === -1) return pool('last')
  if (fn === 'torch.slice' && (rest.length === 0 || (c(0) === 0 && c(1) === 0 && (c(2) === null || (typeof c(2) === 'number' && (c(2) as number) >= 2 ** 62)) && (c(3) ?? 1) === 1))) return a
  if (fn === 'torch.flatten' && a.bf && c(0) === 1) return pool('flatten')
  return `'${fn}' of the attention's output sequence (pool it over the tokens: mean, the last token or a flatten)`
}

/**
 * A traced nn.MultiheadAttention's own forward() (in the archive's code/): num_heads is the constant that divides
 * embed_dim (`head_dim = torch.div(embed_dim, CONSTANTS.c0, …)`), and batch_first shows as the input's
 * transpose (`query = torch.transpose(x, 1, 0)`). Undefined when the code is not that.
 */
export function tracedAttention(body: string[], constant: (i: number) => { data: Float64Array } | undefined): { heads: number; batchFirst: boolean } | undefined {
  const lines = body.map((l) => l.trim())
  const c = lines.map((l) => /^head_dim = torch\.div\(embed_dim, CONSTANTS\.c(\d+)/.exec(l)).find(Boolean)
  const heads = c ? constant(Number(c[1]))?.data : undefined
  if (heads?.length !== 1 || !Number.isInteger(heads[0])) return undefined
  return { heads: heads[0]!, batchFirst: lines.some((l) => /^query = torch\.transpose\(\w+, 1, 0\)$/.test(l)) }
}

/**
 * A traced nn.TransformerEncoderLayer's own forward(): the activation between linear1 and linear2 (torch.relu → 1,
 * torch.gelu without approximate → 2, as activation_relu_or_gelu counts) and the norm order (norm_first: the
 * attention reads norm1's output). Undefined when the code is not that (the eps comes from norm1's own record).
 */
export function tracedEncoder(body: string[]): { act: 1 | 2; normFirst: boolean } | undefined {
  const code = body.map((l) => l.trim()).join('\n')
  const relu = /torch\.relu\(\(linear1\)\.forward\(/.test(code) || /= torch\.relu\(_\d+\)/.test(code)
  const gelu = /= torch\.gelu\([\w.()]+(, )?\)$/m.test(code) || /torch\.gelu\(\(linear1\)\.forward\([^)]*\), *\)/.test(code)
  if (relu === gelu) return undefined
  const pre = /\(self_attn\)\.forward\(\(norm1\)\.forward\(x, \), \)/.test(code)
  const post = /\(self_attn\)\.forward\(x, \)/.test(code)
  if (pre === post) return undefined
  return { act: relu ? 1 : 2, normFirst: pre }
}

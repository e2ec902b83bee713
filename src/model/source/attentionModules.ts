import { ModelError } from '../../errors/base.ts'
import type { AttentionPool } from '../../ir/attentionTypes.ts'
import type { ArchStep } from '../../ir/types.ts'
import { dotted, text, type Ctx, type Node } from './expressions.ts'

export const ATTENTION_CLASSES = ['MultiheadAttention', 'TransformerEncoderLayer', 'TransformerEncoder', 'TransformerDecoderLayer', 'Transformer']

const flag = (n: Node | undefined): boolean | undefined => (n?.k === 'name' && (n.id === 'True' || n.id === 'False') ? n.id === 'True' : n?.k === 'num' ? n.v !== 0 : undefined)
const isNone = (n: Node | undefined) => n === undefined || (n.k === 'name' && n.id === 'None')

/**
 * nn.MultiheadAttention(embed_dim, num_heads, dropout=0 (nothing at inference), bias=True, add_bias_kv=False,
 * add_zero_attn=False, kdim=None, vdim=None, batch_first=False): one step. What ml2sc cannot run (the
 * Transformer modules, add_bias_kv, add_zero_attn, kdim/vdim) is refused here with the line.
 */
export function attentionModuleSteps(ctx: Ctx, cls: string, node: Extract<Node, { k: 'call' }>, prefix: string): ArchStep[] {
  const at = `${ctx.file}:${node.line}`
  const refuse = (what: string, hint: string): never => {
    throw new ModelError(`${what} at ${at} (${text(ctx, node)}) is not supported on chain yet`, { where: ctx.where, hint })
  }
  const arg = (name: string, i: number) => node.kwargs.get(name) ?? node.args[i]
  if (cls === 'TransformerEncoderLayer') return encoderLayerSteps(ctx, node, prefix, arg, refuse)
  if (cls !== 'MultiheadAttention') refuse(`nn.${cls}`, 'use nn.MultiheadAttention (self-attention) or one nn.TransformerEncoderLayer, a pooling over the tokens, then Linear heads')
  if (flag(arg('add_bias_kv', 4))) refuse('a MultiheadAttention with add_bias_kv', 'use add_bias_kv=False')
  if (flag(arg('add_zero_attn', 5))) refuse('a MultiheadAttention with add_zero_attn', 'use add_zero_attn=False')
  const embed = arg('embed_dim', 0)
  const heads = arg('num_heads', 1)
  for (const k of ['kdim', 'vdim'] as const) {
    const v = arg(k, k === 'kdim' ? 6 : 7)
    if (!isNone(v) && !(v!.k === 'num' && embed?.k === 'num' && v!.v === embed.v)) refuse(`a MultiheadAttention with ${k}`, 'self-attention: leave kdim and vdim at None')
  }
  return [{ op: 'mha', name: prefix, ...(heads?.k === 'num' ? { heads: heads.v } : {}), ...(embed?.k === 'num' ? { embed: embed.v } : {}), batchFirst: flag(arg('batch_first', 8)) === true }]
}

/**
 * nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=2048, dropout (nothing at eval), activation=relu
 * or gelu, layer_norm_eps=1e-5, batch_first, norm_first): its self_attn as the attention step, the rest as its encoder.
 */
function encoderLayerSteps(ctx: Ctx, node: Extract<Node, { k: 'call' }>, prefix: string, arg: (name: string, i: number) => Node | undefined, refuse: (what: string, hint: string) => never): ArchStep[] {
  const act = arg('activation', 4)
  const actName = act === undefined ? 'relu' : act.k === 'str' ? act.v : /(?:^|\.)(relu|gelu)$/.exec(dotted(act) ?? '')?.[1]
  if (actName !== 'relu' && actName !== 'gelu') refuse(`a TransformerEncoderLayer with activation ${act ? text(ctx, act) : ''}`, "activation='relu' or 'gelu'")
  const eps = arg('layer_norm_eps', 5)
  if (eps && eps.k !== 'num') refuse(`a TransformerEncoderLayer with layer_norm_eps=${text(ctx, eps)}`, 'a number literal')
  if (flag(arg('bias', 9)) === false) refuse('a TransformerEncoderLayer with bias=False', 'leave bias=True')
  const embed = arg('d_model', 0)
  const heads = arg('nhead', 1)
  const encoder = { name: prefix, normFirst: flag(arg('norm_first', 8)) === true, act: actName === 'gelu' ? ({ kind: 'gelu', approximate: 'none' } as const) : ({ kind: 'relu' } as const), eps: eps?.k === 'num' ? eps.v : 1e-5 }
  return [{ op: 'mha', name: `${prefix}.self_attn`, ...(heads?.k === 'num' ? { heads: heads.v } : {}), ...(embed?.k === 'num' ? { embed: embed.v } : {}), batchFirst: flag(arg('batch_first', 7)) === true, encoder }]
}

/** `self.enc(x)` of a TransformerEncoderLayer: masks refused in one line. Returns the value it encodes. */
export function encoderInput(ctx: Ctx, node: Extract<Node, { k: 'call' }>, name: string): Node {
  for (const [k, v] of node.kwargs)
    if (!((k === 'src_mask' || k === 'src_key_padding_mask' || k === 'is_causal') && (isNone(v) || flag(v) === false)))
      throw new ModelError(`TransformerEncoderLayer '${name}' with ${k}= at ${ctx.file}:${node.line} (${text(ctx, node)}) is not supported on chain`, { where: ctx.where, hint: 'self-attention over the whole window, no mask: self.enc(x)' })
  if (node.args.length !== 1) throw new ModelError(`TransformerEncoderLayer '${name}' at ${ctx.file}:${node.line} (${text(ctx, node)}) takes one input on chain (no mask)`, { where: ctx.where, hint: 'self.enc(x)' })
  return node.args[0]!
}

/**
 * `self.attn(x, x, x)` / `self.attn(x, x, x, need_weights=False)`: self-attention on one value. Masks and
 * cross-attention are refused in one line. Returns the name of the value attended.
 */
export function selfAttentionInput(ctx: Ctx, node: Extract<Node, { k: 'call' }>, name: string): Node {
  const where = `${ctx.file}:${node.line}`
  const refuse = (what: string, hint: string): never => {
    throw new ModelError(`${what} at ${where} (${text(ctx, node)}) is not supported on chain`, { where: ctx.where, hint })
  }
  for (const [k, v] of node.kwargs) {
    if (k === 'attn_mask' || k === 'key_padding_mask' || k === 'is_causal') {
      if (!isNone(v) && !(k === 'is_causal' && flag(v) === false)) refuse(`MultiheadAttention '${name}' with ${k}`, 'self-attention over the whole window, no mask')
    } else if (k !== 'need_weights' && k !== 'average_attn_weights' && k !== 'query' && k !== 'key' && k !== 'value') refuse(`MultiheadAttention '${name}' with ${k}=`, 'call it as self.attn(x, x, x)')
  }
  if (node.args.length > 3) refuse(`MultiheadAttention '${name}' with a mask argument`, 'self-attention over the whole window, no mask')
  const qkv = [node.args[0] ?? node.kwargs.get('query'), node.args[1] ?? node.kwargs.get('key'), node.args[2] ?? node.kwargs.get('value')]
  if (qkv.some((n) => !n)) refuse(`MultiheadAttention '${name}' needs query, key and value`, 'call it as self.attn(x, x, x)')
  const texts = qkv.map((n) => text(ctx, n!))
  if (texts.some((t) => t !== texts[0])) refuse(`cross-attention (query ${texts[0]}, key ${texts[1]}, value ${texts[2]}) in MultiheadAttention '${name}'`, 'self-attention only: self.attn(x, x, x)')
  return qkv[0]!
}

/**
 * The pooling of an attention output `a` ([N, T, E] batch_first, else [T, N, E]) over its tokens:
 * a.mean(dim=1) / a.mean(1) / torch.mean(a, dim=1), a[:, -1, :] / a[-1], a.flatten(1) / torch.flatten(a, 1).
 * Undefined when the call or subscript is none of them.
 */
export function attentionPoolOf(node: Node, batchFirst: boolean, isOut: (n: Node) => boolean): AttentionPool | undefined {
  const tokDim = batchFirst ? 1 : 0
  const dimOk = (n: Node | undefined) => n !== undefined && n.k === 'num' && n.v === tokDim
  if (node.k === 'other' && node.what === 'subscript' && node.obj && node.index !== undefined && isOut(node.obj)) {
    const i = node.index.replace(/\s+/g, '')
    return (batchFirst ? /^\[:,-1(,:)?\]$/ : /^\[-1(,:)*\]$/).test(i) ? 'last' : undefined
  }
  if (node.k !== 'call') return undefined
  const fn = node.fn
  if (fn.k === 'attr' && isOut(fn.obj)) {
    if (fn.attr === 'mean' && node.args.length + node.kwargs.size === 1 && dimOk(node.kwargs.get('dim') ?? node.args[0])) return 'mean'
    if (fn.attr === 'flatten' && batchFirst && node.args.length === 1 && node.args[0]!.k === 'num' && node.args[0]!.v === 1) return 'flatten'
    return undefined
  }
  const full = dotted(fn)
  const first = node.args[0]
  if (!first || !isOut(first)) return undefined
  if (full === 'torch.mean' && dimOk(node.kwargs.get('dim') ?? node.args[1])) return 'mean'
  if (full === 'torch.flatten' && batchFirst && (node.kwargs.get('start_dim') ?? node.args[1])?.k === 'num' && ((node.kwargs.get('start_dim') ?? node.args[1]) as { v: number }).v === 1) return 'flatten'
  return undefined
}

/** a.mean(dim=1), a[:, -1, :], a.flatten(1) of an attention output `a` (`outOf` finds it): the steps that pool it over the tokens. */
export function attentionPooling(ctx: Ctx, node: Node, outOf: (n: Node) => { steps: ArchStep[]; batchFirst: boolean } | undefined): ArchStep[] | undefined {
  const cand = node.k === 'other' ? node.obj : node.k === 'call' ? (node.fn.k === 'attr' ? node.fn.obj : node.args[0]) : undefined
  const out = cand && outOf(cand)
  if (!out) return undefined
  const how = attentionPoolOf(node, out.batchFirst, (n) => n === cand)
  if (!how)
    throw new ModelError(`'${text(ctx, node)}' at ${ctx.file}:${node.line} is not a pooling of MultiheadAttention's output ml2sc runs (batch_first=${out.batchFirst ? 'True' : 'False'})`, {
      where: ctx.where,
      hint: out.batchFirst ? 'a.mean(dim=1), a[:, -1, :] or a.flatten(1)' : 'a.mean(dim=0) or a[-1]',
    })
  return [...out.steps, { op: 'seqpool', how }]
}

import { ModelError } from '../errors/base.ts'
import type { EncoderBlock, LayerNormAct } from './attentionTypes.ts'
import type { Activation, Tensor } from './types.ts'

const rows = (t: Tensor): number[][] => Array.from({ length: t.shape[0]! }, (_, o) => Array.from(t.data.subarray(o * t.shape[1]!, (o + 1) * t.shape[1]!)))

/**
 * The feed-forward and norm tensors of an nn.TransformerEncoderLayer `<name>`: linear1 [dff, E], linear2
 * [E, dff], norm1/norm2 weight and bias [E]; relu or gelu between the Linears.
 */
export function buildEncoder(
  enc: { name: string; normFirst: boolean; act: Activation; eps: number },
  E: number,
  take: (key: string, what: string) => Tensor,
  peek: (key: string) => Tensor | undefined,
  use: (key: string) => void,
  file: string,
): EncoderBlock {
  const what = `TransformerEncoderLayer '${enc.name}'`
  if (enc.act.kind !== 'relu' && !(enc.act.kind === 'gelu' && enc.act.approximate === 'none'))
    throw new ModelError(`${what} has activation ${enc.act.kind}: ml2sc runs relu or gelu`, { where: file, hint: "activation='relu' or 'gelu'" })
  const p = `${enc.name}.`
  const w1 = take(`${p}linear1.weight`, what)
  const w2 = take(`${p}linear2.weight`, what)
  const dff = w1.shape[0]!
  if (w1.shape.join() !== `${dff},${E}` || w2.shape.join() !== `${E},${dff}`)
    throw new ModelError(`${what}: linear1.weight [${w1.shape}] / linear2.weight [${w2.shape}] are not [dim_feedforward, ${E}] / [${E}, dim_feedforward]`, { where: file })
  const vec = (k: string, n: number, fill: number) => {
    const t = peek(`${p}${k}`)
    if (!t) return new Array<number>(n).fill(fill)
    use(`${p}${k}`)
    if (t.shape.length !== 1 || t.shape[0] !== n) throw new ModelError(`'${p}${k}' has shape [${t.shape}], expected [${n}]`, { where: file })
    return Array.from(t.data)
  }
  const norm = (k: string): LayerNormAct => ({ kind: 'layer_norm', size: E, groups: 1, eps: enc.eps, gamma: vec(`${k}.weight`, E, 1), beta: vec(`${k}.bias`, E, 0) })
  return {
    name: enc.name,
    normFirst: enc.normFirst,
    act: enc.act,
    ff1: { weight: rows(w1), bias: vec('linear1.bias', dff, 0) },
    ff2: { weight: rows(w2), bias: vec('linear2.bias', E, 0) },
    norm1: norm('norm1'),
    norm2: norm('norm2'),
  }
}

import { ModelError } from '../errors/base.ts'
import { gatesOf, type ReadoutPiece, type ReadoutSpec, type RecurrentLayer, type RecurrentStep } from './recurrentTypes.ts'
import type { Tensor } from './types.ts'

const rows = (t: Tensor): number[][] => Array.from({ length: t.shape[0]! }, (_, o) => Array.from(t.data.subarray(o * t.shape[1]!, (o + 1) * t.shape[1]!)))

/**
 * A GRU/LSTM step with its tensors (`<name>.weight_ih_l<k>[_reverse]`, `weight_hh_…`, `bias_ih_…`, `bias_hh_…`;
 * biases may be absent: bias=False) over the window `inputShape` [T, F]: 1 or 2 layers, one or two directions
 * (the `_reverse` tensors say so), and the readout the forward() takes (recurrentTypes.ts). Three layers,
 * proj_size (`weight_hr_l0`) and an input shape that is not [T, F] are refused.
 */
export function buildRecurrent(
  step: RecurrentStep,
  inputShape: number[] | undefined,
  take: (key: string, what: string) => Tensor,
  peek: (key: string) => Tensor | undefined,
  use: (key: string) => void,
  file: string,
): RecurrentLayer {
  const what = `${step.op.toUpperCase()} '${step.name}'`
  const p = `${step.name}.`
  if (peek(`${p}weight_ih_l2`)) throw new ModelError(`${what} has more than two layers: not supported on chain yet`, { where: file, hint: 'use num_layers=1 or 2' })
  if (peek(`${p}weight_hr_l0`)) throw new ModelError(`${what} is an LSTM with proj_size (weight_hr_l0): not supported on chain yet`, { where: file, hint: 'leave proj_size at 0' })
  if (!inputShape || inputShape.length !== 2)
    throw new ModelError(`${what} needs the input window as model.inputShape: [T, F] (time steps, features)${inputShape ? `; got [${inputShape}]` : ''}`, {
      where: 'model.inputShape',
      hint: 'e.g. inputShape: [16, 1] for 16 steps of one feature; the CSV holds the window step by step',
    })
  const [T, F] = inputShape as [number, number]
  const G = gatesOf(step.op)
  const D = peek(`${p}weight_ih_l0_reverse`) ? 2 : 1
  const L = peek(`${p}weight_ih_l1`) ? 2 : 1
  const wh0 = take(`${p}weight_hh_l0`, what)
  if (wh0.shape.length !== 2 || wh0.shape[0]! % G !== 0) throw new ModelError(`${what}: weight_hh_l0 [${wh0.shape}] is not a ${step.op.toUpperCase()}'s`, { where: file })
  const H = wh0.shape[0]! / G
  if (step.hidden !== undefined && step.hidden !== H) throw new ModelError(`${what} is declared with hidden_size ${step.hidden} but its weights have ${H}`, { where: file })
  const cell = (l: number, rev: boolean): RecurrentLayer => {
    const sfx = `_l${l}${rev ? '_reverse' : ''}`
    const inF = l === 0 ? F : D * H
    const wi = take(`${p}weight_ih${sfx}`, what)
    const wh = take(`${p}weight_hh${sfx}`, what)
    if (wi.shape.length !== 2 || wi.shape[0] !== G * H || (l > 0 && wi.shape[1] !== inF))
      throw new ModelError(`${what}: weight_ih${sfx} is [${wi.shape}], expected [${G * H}, ${inF}]`, { where: file })
    if (wh.shape.join() !== `${G * H},${H}`) throw new ModelError(`${what}: weight_hh${sfx} is [${wh.shape}], expected [${G * H}, ${H}]`, { where: file })
    if (l === 0 && wi.shape[1] !== F)
      throw new ModelError(`${what} takes ${wi.shape[1]} features per step but model.inputShape is [${T}, ${F}]`, { where: 'model.inputShape', hint: `use [T, ${wi.shape[1]}]: model.inputShape is [T, F] whatever batch_first says` })
    const bias = (k: string) => {
      const b = peek(`${p}${k}${sfx}`)
      if (!b) return new Array<number>(G * H).fill(0)
      use(`${p}${k}${sfx}`)
      if (b.shape.length !== 1 || b.shape[0] !== G * H) throw new ModelError(`'${p}${k}${sfx}' has shape [${b.shape}], expected [${G * H}]`, { where: file })
      return Array.from(b.data)
    }
    const name = `${step.name}${l ? `.l${l}` : ''}${rev ? '.reverse' : ''}`
    return { kind: step.op, name, steps: T, features: inF, hidden: H, weightIh: rows(wi), weightHh: rows(wh), biasIh: bias('bias_ih'), biasHh: bias('bias_hh') }
  }
  const layer = (l: number): RecurrentLayer => ({ ...cell(l, false), ...(D === 2 ? { reverse: cell(l, true) } : {}) })
  const root = layer(0)
  if (L === 2) root.next = layer(1)
  const readout = resolveReadout(step.readout ?? [{ out: -1 }], { L, D, T, what, file })
  const plain = readout.length === 1 && readout[0]!.layer === L - 1 && readout[0]!.dir === 0 && readout[0]!.t === T - 1
  return plain && D === 1 ? root : { ...root, readout }
}

/** PyTorch's indexing of out / h_n → the pieces it selects (recurrentTypes.ts). */
export function resolveReadout(specs: ReadoutSpec[], a: { L: number; D: number; T: number; what: string; file: string }): ReadoutPiece[] {
  const { L, D, T } = a
  const final = (i: number): ReadoutPiece => ({ layer: Math.floor(i / D), dir: (i % D) as 0 | 1, t: i % D ? 0 : T - 1 })
  const top = (t: number): ReadoutPiece[] => Array.from({ length: D }, (_, d) => ({ layer: L - 1, dir: d as 0 | 1, t }))
  const bad = (why: string, hint: string): never => {
    throw new ModelError(`${a.what}: ${why}`, { where: a.file, hint })
  }
  return specs.flatMap((s): ReadoutPiece[] => {
    if ('seq' in s) return Array.from({ length: T }, (_, t) => top(t)).flat()
    if ('out' in s) {
      const t = s.out < 0 ? s.out + T : s.out
      if (t < 0 || t >= T) bad(`out[:, ${s.out}, :] is outside the window of ${T} steps`, 'check model.inputShape')
      return top(t)
    }
    const n = L * D
    if (s.hn === 'all') return Array.from({ length: n }, (_, i) => final(i))
    if (s.hn === 'only') return n === 1 ? [final(0)] : bad(`h_n.squeeze(0) of a module with ${L} layer(s) × ${D} direction(s) keeps ${n} states`, 'take h_n[-1] or torch.cat((h_n[-2], h_n[-1]), 1)')
    const i = s.hn < 0 ? s.hn + n : s.hn
    if (i < 0 || i >= n) bad(`h_n[${s.hn}] does not exist (h_n has ${n} entries: layers × directions)`, `index h_n from -${n} to ${n - 1}`)
    return [final(i)]
  })
}

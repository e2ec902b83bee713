import { ModelError } from '../errors/base.ts'
import { gatesOf, type RecurrentLayer, type RecurrentStep } from './recurrentTypes.ts'
import type { Tensor } from './types.ts'

const rows = (t: Tensor): number[][] => Array.from({ length: t.shape[0]! }, (_, o) => Array.from(t.data.subarray(o * t.shape[1]!, (o + 1) * t.shape[1]!)))

/**
 * A GRU/LSTM step with its tensors (`<name>.weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`) over
 * the window `inputShape` [T, F]. More than one layer and bidirectional modules are refused (their `_l1` /
 * `_reverse` tensors name them), as is an input shape that is not [T, F].
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
  if (peek(`${p}weight_ih_l0_reverse`)) throw new ModelError(`${what} is bidirectional: not supported on chain yet`, { where: file, hint: 'use bidirectional=False' })
  if (peek(`${p}weight_ih_l2`)) throw new ModelError(`${what} has more than two layers: not supported on chain yet`, { where: file, hint: 'use num_layers=1 or 2' })
  if (!inputShape || inputShape.length !== 2)
    throw new ModelError(`${what} needs the input window as model.inputShape: [T, F] (time steps, features)${inputShape ? `; got [${inputShape}]` : ''}`, {
      where: 'model.inputShape',
      hint: 'e.g. inputShape: [16, 1] for 16 steps of one feature; the CSV holds the window step by step',
    })
  const [T, F] = inputShape as [number, number]
  const G = gatesOf(step.op)
  const wi = take(`${p}weight_ih_l0`, what)
  const wh = take(`${p}weight_hh_l0`, what)
  if (wi.shape.length !== 2 || wh.shape.length !== 2 || wh.shape[0]! % G !== 0)
    throw new ModelError(`${what}: weight_ih_l0 [${wi.shape}] / weight_hh_l0 [${wh.shape}] are not a ${step.op.toUpperCase()}'s`, { where: file })
  const H = wh.shape[0]! / G
  if (wh.shape[1] !== H || wi.shape[0] !== G * H) throw new ModelError(`${what}: weight_hh_l0 is [${wh.shape}], expected [${G * H}, ${H}]`, { where: file })
  if (step.hidden !== undefined && step.hidden !== H) throw new ModelError(`${what} is declared with hidden_size ${step.hidden} but its weights have ${H}`, { where: file })
  if (wi.shape[1] !== F)
    throw new ModelError(`${what} takes ${wi.shape[1]} features per step but model.inputShape is [${T}, ${F}]`, { where: 'model.inputShape', hint: `use [T, ${wi.shape[1]}]` })
  const bias = (k: string, H: number) => {
    const b = peek(`${p}${k}`)
    if (!b) return new Array<number>(G * H).fill(0)
    use(`${p}${k}`)
    if (b.shape.length !== 1 || b.shape[0] !== G * H) throw new ModelError(`'${p}${k}' has shape [${b.shape}], expected [${G * H}]`, { where: file })
    return Array.from(b.data)
  }
  const cell0 = { kind: step.op, name: step.name, steps: T, features: F, hidden: H, weightIh: rows(wi), weightHh: rows(wh), biasIh: bias('bias_ih_l0', H), biasHh: bias('bias_hh_l0', H) }
  if (!peek(`${p}weight_ih_l1`)) return cell0
  // num_layers = 2: the second layer reads the first's h_t at every step
  const wi1 = take(`${p}weight_ih_l1`, what)
  const wh1 = take(`${p}weight_hh_l1`, what)
  if (wi1.shape.join() !== `${G * H},${H}` || wh1.shape.join() !== `${G * H},${H}`) throw new ModelError(`${what}: its second layer's weights [${wi1.shape}] / [${wh1.shape}] are not [${G * H}, ${H}]`, { where: file })
  return { ...cell0, next: { ...cell0, name: `${step.name}.l1`, features: H, weightIh: rows(wi1), weightHh: rows(wh1), biasIh: bias('bias_ih_l1', H), biasHh: bias('bias_hh_l1', H) } }
}

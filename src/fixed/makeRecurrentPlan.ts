import { NumericsError } from '../errors/base.ts'
import { cellsOf, layersOf, readoutOf, type RecurrentLayer } from '../ir/recurrentTypes.ts'
import { quantize } from './quantize.ts'
import { cellPinOf, type RecurrentBlock, type RecurrentPlan } from './recurrentPlanTypes.ts'

const abs = (v: bigint) => (v < 0n ? -v : v)
const bitLength = (v: bigint) => abs(v).toString(2).length
const range = (a: number, n: number) => Array.from({ length: n }, (_, i) => a + i)

export type RecurrentPlanArgs = { wMaxQ: bigint; F: number; scale: bigint; inputAbsMax: bigint; weightBytes: number }

/**
 * The fixed-point plan of a GRU/LSTM: one weight scale 2^s for all its weights (the largest that fits the
 * storage width), biases at 2^(s+F) with the half-ulp, and interval analysis over the whole window:
 * |x| ≤ inputAbsMax; |h_t| ≤ S for every t (GRU: h' = n + z(h − n) is a convex mix of |n| ≤ S and |h| ≤ S,
 * rounded to an integer that cannot pass S; LSTM: |o·tanh(c)| ≤ S), and LSTM |c_t| ≤ t·(S + 1) (f, i ≤ S,
 * |g| ≤ S: each step adds at most S and a rounding). Each block's accumulator bound sets its lane width.
 */
export function makeRecurrentPlan(layer: RecurrentLayer, a: RecurrentPlanArgs, pin?: string): RecurrentPlan {
  const pins = pin === undefined ? undefined : (JSON.parse(pin) as unknown[])
  const shape = (r: RecurrentLayer) => `${layersOf(r).length} layer(s) × ${r.reverse ? 2 : 1} direction(s), readout ${JSON.stringify(readoutOf(r).map((p) => [p.layer, p.dir, p.t]))}`
  // the deployed contract's cell pins, bottom first (forward before reverse), and its shape
  const extended = pins !== undefined && typeof pins[pins.length - 1] === 'object' && !Array.isArray(pins[pins.length - 1])
  const cellPins = pins === undefined ? undefined : extended ? pins.slice(0, -1) : Array.isArray(pins[0]) ? pins : [pins]
  if (pins) {
    const tail = extended ? (pins[pins.length - 1] as { layers: number; dirs: number; readout: number[][] }) : undefined
    const n = cellPins!.length
    const had = tail ? `${tail.layers} layer(s) × ${tail.dirs} direction(s), readout ${JSON.stringify(tail.readout)}` : `${n} layer(s) × 1 direction(s), readout ${JSON.stringify([[n - 1, 0, layer.steps - 1]])}`
    if (had !== shape(layer) || n !== cellsOf(layer).length)
      throw new NumericsError(`the new ${layer.kind.toUpperCase()} has ${shape(layer)}; the deployed contract has ${had}`, { hint: 'deploy the new model with `ml2sc run`' })
  }
  let k = 0
  const cellOf = (c: RecurrentLayer, args: RecurrentPlanArgs) => makeCell(c, args, cellPins === undefined ? undefined : JSON.stringify(cellPins[k++]))
  const planLayer = (l: RecurrentLayer, args: RecurrentPlanArgs): RecurrentPlan => {
    const fwd = cellOf(l, args)
    return l.reverse ? { ...fwd, reverse: cellOf(l.reverse, args) } : fwd
  }
  const root = planLayer(layer, a)
  // a stacked layer's inputs are the states of the layer below: |h| ≤ S
  if (layer.next) root.next = planLayer(layer.next, { ...a, inputAbsMax: a.scale })
  return layer.readout ? { ...root, readout: layer.readout } : root
}

function makeCell(layer: RecurrentLayer, a: RecurrentPlanArgs, pin?: string): RecurrentPlan {
  if (a.scale !== 1n << BigInt(a.F)) throw new NumericsError(`${layer.kind.toUpperCase()} '${layer.name}' needs a binary activation scale (precision.fraction), not a decimal one`, { hint: 'remove precision.decimals' })
  const { hidden: H, features: F } = layer
  const all = [...layer.weightIh.flat(), ...layer.weightHh.flat()]
  const wAbsMax = Math.max(...all.map(Math.abs))
  let s = wAbsMax === 0 ? 1 : Math.floor(Math.log2(Number(a.wMaxQ) / wAbsMax))
  while (s > 0 && abs(quantize(wAbsMax, s)) > a.wMaxQ) s--
  s = Math.min(s, 64)
  const pinned = pin === undefined ? undefined : (JSON.parse(pin) as [string, number, ...[number, number][]])
  if (pinned) s = pinned[1]
  if (s < 1 || abs(quantize(wAbsMax, s)) > a.wMaxQ)
    throw new NumericsError(`weights of ${layer.kind.toUpperCase()} '${layer.name}' reach ${wAbsMax}, too large for int${8 * a.weightBytes}${pinned ? ' at the deployed contract\'s scale' : ''}`, {
      hint: pinned ? 'deploy the new model with `ml2sc run`' : 'choose a wider precision.weights',
    })
  const S = a.scale
  const hMax = S
  const cMax = layer.kind === 'lstm' ? BigInt(layer.steps) * (S + 1n) : 0n
  const half = 1n << BigInt(s - 1)
  const qb = (v: number) => quantize(v, s + a.F) + half
  const block = (name: RecurrentBlock['name'], rows: number[], x: boolean, h: boolean, bias: (r: number) => number, k: number): RecurrentBlock => {
    const weights = rows.map((r) => [...(x ? layer.weightIh[r]! : []), ...(h ? layer.weightHh[r]! : [])].map((w) => quantize(w, s)))
    const biases = rows.map((r) => qb(bias(r)))
    const xm = [...(x ? new Array<bigint>(F).fill(a.inputAbsMax) : []), ...(h ? new Array<bigint>(H).fill(hMax) : [])]
    const accMax = weights.reduce((m, row, j) => {
      const acc = row.reduce((t, w, i) => t + abs(w) * xm[i]!, abs(biases[j]!))
      return acc > m ? acc : m
    }, 0n)
    const need = 8 * Math.ceil((bitLength(accMax) + 1) / 8)
    const p = pinned?.[2 + k] as [number, number] | undefined
    if (p && need > p[0]) throw new NumericsError(`the new weights of '${layer.name}' need ${need}-bit lanes; the deployed contract has ${p[0]}`, { hint: 'deploy the new model with `ml2sc run`' })
    const laneBits = p ? p[0] : need
    if (laneBits > 256) throw new NumericsError(`${layer.kind.toUpperCase()} '${layer.name}' could overflow 256 bits`, { hint: 'use a narrower precision.inputs or precision.weights' })
    const lanes = p ? p[1] : Math.max(1, Math.min(Math.floor(256 / laneBits), rows.length))
    return { name, rows, x, h, weights, biases, laneBits, lanes, accMax }
  }
  const both = (r: number) => layer.biasIh[r]! + layer.biasHh[r]!
  const blocks =
    layer.kind === 'gru'
      ? [block('rz', range(0, 2 * H), true, true, both, 0), block('nx', range(2 * H, H), true, false, (r) => layer.biasIh[r]!, 1), block('nh', range(2 * H, H), false, true, (r) => layer.biasHh[r]!, 2)]
      : [block('ifgo', range(0, 4 * H), true, true, both, 0)]
  // the products of the combine step: |r·nh|, |z·(h − n)|, |f·c| + |i·g|, |o·tanh c|, all far below 2^255
  const plan: RecurrentPlan = { kind: layer.kind, name: layer.name, steps: layer.steps, features: F, hidden: H, wShift: s, blocks, hMax, cMax }
  if (pinned && JSON.stringify(cellPinOf(plan)) !== pin) throw new NumericsError(`the new weights of '${layer.name}' need other scales or lanes than the deployed contract has`, { hint: 'deploy the new model with `ml2sc run`' })
  return plan
}

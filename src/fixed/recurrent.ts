import { readoutOf, type RecurrentLayer } from '../ir/recurrentTypes.ts'
import { sigmoidFixed } from '../ir/ops/sigmoid.ts'
import { tanhFixed } from '../ir/ops/tanh.ts'
import type { RecurrentPlan } from './recurrentPlanTypes.ts'

const sig = (v: number) => 1 / (1 + Math.exp(-v))

/**
 * Every layer's every direction's states h at each time position ([layer][dir][t], in sequence order: the
 * reverse direction runs from t = T−1 down to 0), given one cell's run over a window of inputs.
 */
function allStates<C extends { next?: C; reverse?: C; steps: number; hidden: number }, V>(root: C, x: V[], run: (c: C, x: V[], backwards: boolean) => V[][]): V[][][][] {
  const out: V[][][][] = []
  let input = x
  for (let c: C | undefined = root; c; c = c.next) {
    const dirs = [run(c, input, false), ...(c.reverse ? [run(c.reverse, input, true)] : [])]
    out.push(dirs)
    // the next layer reads, at each t, every direction's h_t
    input = Array.from({ length: c.steps }, (_, t) => dirs.flatMap((d) => d[t]!)).flat() as V[]
  }
  return out
}

/** The float reference of a GRU/LSTM over the window x ([T][F] flat, step-major), PyTorch's equations: the readout's states, concatenated. */
export function floatRecurrent(l: RecurrentLayer, x: number[]): number[] {
  const states = allStates(l, x, (c, xs, back) => orderOf(floatSequence(c, back ? reverseSteps(xs, c.features) : xs), back))
  return readoutOf(l).flatMap((p) => states[p.layer]![p.dir]![p.t]!)
}

/** The window with its steps in reverse order (a reverse cell's input). */
const reverseSteps = <V>(x: V[], F: number): V[] => Array.from({ length: x.length / F }, (_, t) => x.slice(x.length - (t + 1) * F, x.length - t * F)).flat()
/** A reverse cell's states, computed from the last step back, put in sequence order. */
const orderOf = <V>(seq: V[][], back: boolean) => (back ? [...seq].reverse() : seq)

/** One layer's h_1 … h_T. */
function floatSequence(l: RecurrentLayer, x: number[]): number[][] {
  const { hidden: H, features: F } = l
  const out: number[][] = []
  let h = new Array<number>(H).fill(0)
  let c = new Array<number>(H).fill(0)
  for (let t = 0; t < l.steps; t++) {
    const xt = x.slice(t * F, (t + 1) * F)
    const gi = l.weightIh.map((row, r) => row.reduce((s, w, i) => s + w * xt[i]!, l.biasIh[r]!))
    const gh = l.weightHh.map((row, r) => row.reduce((s, w, j) => s + w * h[j]!, l.biasHh[r]!))
    if (l.kind === 'gru') {
      h = h.map((hj, j) => {
        const r = sig(gi[j]! + gh[j]!)
        const z = sig(gi[H + j]! + gh[H + j]!)
        const n = Math.tanh(gi[2 * H + j]! + r * gh[2 * H + j]!)
        return (1 - z) * n + z * hj
      })
    } else {
      const g = gi.map((v, r) => v + gh[r]!)
      c = c.map((cj, j) => sig(g[H + j]!) * cj + sig(g[j]!) * Math.tanh(g[2 * H + j]!))
      h = c.map((cj, j) => sig(g[3 * H + j]!) * Math.tanh(cj))
    }
    out.push(h)
  }
  return out
}

/** The gate pre-activations of one block at 2^F: (bq + Σ wq·[x, h]) >> s, rows in block order. */
function blockPre(b: RecurrentPlan['blocks'][number], s: bigint, xt: bigint[], h: bigint[]): bigint[] {
  const cols = [...(b.x ? xt : []), ...(b.h ? h : [])]
  return b.weights.map((row, j) => row.reduce((acc, w, i) => acc + w * cols[i]!, b.biases[j]!) >> s)
}

/**
 * The fixed-point twin: exactly what the contract computes (recurrentPlanTypes.ts), the readout's states at
 * 2^F. Each cell runs over the layer below's states (the contract may interleave stacked one-direction layers
 * step by step: the same numbers).
 */
export function fixedRecurrent(p: RecurrentPlan, x: bigint[], scale: bigint): bigint[] {
  const states = allStates(p, x, (c, xs, back) => orderOf(fixedSequence(c, back ? reverseSteps(xs, c.features) : xs, scale), back))
  return readoutOf(p).flatMap((q) => states[q.layer]![q.dir]![q.t]!)
}

function fixedSequence(p: RecurrentPlan, x: bigint[], scale: bigint): bigint[][] {
  const { hidden: H, features: F } = p
  const out: bigint[][] = []
  const s = BigInt(p.wShift)
  const Fb = BigInt(scale.toString(2).length - 1)
  const half = scale >> 1n
  const mulS = (a: bigint, b: bigint) => (a * b + half) >> Fb
  let h = new Array<bigint>(H).fill(0n)
  let c = new Array<bigint>(H).fill(0n)
  for (let t = 0; t < p.steps; t++) {
    const xt = x.slice(t * F, (t + 1) * F)
    const pre = p.blocks.map((b) => blockPre(b, s, xt, h))
    if (p.kind === 'gru') {
      const [rz, nx, nh] = pre as [bigint[], bigint[], bigint[]]
      h = h.map((hj, j) => {
        const r = sigmoidFixed(rz[j]!, scale)
        const z = sigmoidFixed(rz[H + j]!, scale)
        const n = tanhFixed(nx[j]! + mulS(r, nh[j]!), scale)
        return n + mulS(z, hj - n)
      })
    } else {
      const g = pre[0]!
      c = c.map((cj, j) => (sigmoidFixed(g[H + j]!, scale) * cj + sigmoidFixed(g[j]!, scale) * tanhFixed(g[2 * H + j]!, scale) + half) >> Fb)
      h = c.map((cj, j) => mulS(sigmoidFixed(g[3 * H + j]!, scale), tanhFixed(cj, scale)))
    }
    out.push(h)
  }
  return out
}

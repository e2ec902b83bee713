// Synthetic models for the differential fuzz (test/fuzz/differential.test.ts): random dense layers, identity
// probes that feed an activation its own inputs, chains, and the activation constants.
import { headsLayer } from '../../src/ir/heads.ts'
import type { Activation, DenseLayer, LayerInput, ModelIR } from '../../src/ir/types.ts'

export type Rng = () => number

// ---- synthetic models --------------------------------------------------------------------------------

export const A = {
  identity: { kind: 'identity' } as Activation,
  relu: { kind: 'relu' } as Activation,
  sigmoid: { kind: 'sigmoid' } as Activation,
  tanh: { kind: 'tanh' } as Activation,
  softmax: { kind: 'softmax' } as Activation,
  leaky: (slope: number) => ({ kind: 'leaky_relu', slope }) as Activation,
}
/** The ops added to the registry (src/ir/ops/), each probed on its own and all of them in one deep chain. */
export const NEW_OPS: Activation[] = [
  { kind: 'hardtanh', min: 0, max: 6 },
  { kind: 'hardtanh', min: -1, max: 1 },
  { kind: 'hardsigmoid' },
  { kind: 'hardswish' },
  { kind: 'elu', alpha: 1 },
  { kind: 'silu' },
  { kind: 'gelu', approximate: 'none' },
  { kind: 'gelu', approximate: 'tanh' },
  { kind: 'softplus', threshold: 20 },
  { kind: 'mish' },
  { kind: 'log_softmax' },
]

export function dense(r: Rng, nIn: number, nOut: number, activation: Activation, o: { scale?: number; bias?: number; name?: string } = {}): DenseLayer {
  const scale = o.scale ?? 1 / Math.sqrt(nIn)
  const u = () => (r() * 2 - 1) * scale
  return {
    name: o.name ?? `fc${nIn}x${nOut}`,
    weight: Array.from({ length: nOut }, () => Array.from({ length: nIn }, u)),
    bias: Array.from({ length: nOut }, () => (r() * 2 - 1) * (o.bias ?? scale)),
    activation,
  }
}
/** W = identity: the layer's activation sees the input itself (exact: the bias carries only the rounding half). */
export function probe(n: number, activation: Activation): ModelIR {
  return {
    format: 'synthetic',
    inputSize: n,
    layers: [{ name: 'probe', weight: Array.from({ length: n }, (_, j) => Array.from({ length: n }, (_, i) => (i === j ? 1 : 0))), bias: new Array(n).fill(0), activation }],
  }
}
export function chain(r: Rng, sizes: number[], acts: Activation[], o: { scale?: number; bias?: number } = {}): ModelIR {
  return { format: 'synthetic', inputSize: sizes[0]!, layers: acts.map((a, l) => dense(r, sizes[l]!, sizes[l + 1]!, a, { ...o, name: `l${l}` })) }
}

/** `embed: false` forces the weights into data contracts (uploaded); by default small models embed them in code. */

/**
 * A random graph model (ir/layerInput.ts): `layers` are [nIn, nOut, activation, input?] in order, each reading
 * the previous value unless `input` names others (a skip, a residual sum, a concat). Widths must agree.
 */
export function graph(r: Rng, inputSize: number, specs: [number, number, Activation, LayerInput?][], o: { scale?: number } = {}): ModelIR {
  return {
    format: 'synthetic-graph',
    inputSize,
    layers: specs.map(([nIn, nOut, act, input], l) => ({ ...dense(r, nIn, nOut, act, { ...o, name: `g${l}` }), ...(input ? { input } : {}) })),
  }
}
/** Residual blocks h = h + f(h) twice, then the head: the head reads a sum of three values. */
export const residualMlp = (r: Rng, n: number, w: number, out: number, act: Activation, head: Activation): ModelIR =>
  graph(r, n, [
    [n, w, act],
    [w, w, act],
    [w, w, act, { op: 'add', values: [1, 2] }],
    [w, out, head, { op: 'add', values: [1, 2, 3] }],
  ])
/** Two branches from the input (the second reads value 0 again), concatenated, then a skip of the input into the head. */
export const concatMlp = (r: Rng, n: number, a: number, b: number, out: number, head: Activation): ModelIR =>
  graph(r, n, [
    [n, a, { kind: 'tanh' }],
    [n, b, { kind: 'relu' }, { op: 'concat', values: [0] }],
    [a + b, 6, { kind: 'relu' }, { op: 'concat', values: [1, 2] }],
    [n + 6, out, head, { op: 'concat', values: [0, 3] }],
  ])
/**
 * A multi-output model (ir/heads.ts): a trunk, a class head of `classes` logits, a value head (a Linear-tanh-Linear
 * chain) and a sigmoid head, laid side by side by the identity `heads` layer as buildModel makes it.
 */
export function headsMlp(r: Rng, n: number, w: number, classes: number): ModelIR {
  const m = graph(r, n, [
    [n, w, { kind: 'relu' }],
    [w, classes, { kind: 'identity' }],
    [w, 4, { kind: 'tanh' }, { op: 'concat', values: [1] }],
    [4, 1, { kind: 'identity' }],
    [w, 1, { kind: 'sigmoid' }, { op: 'concat', values: [1] }],
  ])
  const { layer, heads } = headsLayer(['cls', 'value', 'flag'], [2, 4, 5].map((v) => ({ op: 'concat' as const, values: [v] })), (v) => m.layers[v - 1]!.weight.length, 'synthetic')
  return { ...m, layers: [...m.layers, layer], heads }
}

// Random small CNNs (conv (+BN) (+act), a pool, maybe a second conv, a Linear head) for the on-chain
// tests and the simulator tests (test/fixed/conv.test.ts).
import { buildModel } from '../../src/ir/buildModel.ts'
import { buildTensorLayers } from '../../src/ir/buildTensorLayers.ts'
import type { Activation, ArchStep, ModelIR, TensorMap } from '../../src/ir/types.ts'
import { rng } from './rng.ts'

const tensor = (shape: number[], data: number[]) => ({ shape, data: Float64Array.from(data) })

const ACTS: Activation[] = [{ kind: 'identity' }, { kind: 'relu' }, { kind: 'leaky_relu', slope: 0.1 }, { kind: 'sigmoid' }, { kind: 'tanh' }]

/** A random small CNN (a window larger than its input throws 'does not fit': draw again): conv (+BN) (+act), a pool, maybe a second conv, then a Linear head. */
export function randomCnn(seed: number, heads = false): { model: ModelIR; describe: string } {
  const r = rng(seed)
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1))
  const dims = r() < 0.5 ? 1 : 2
  const inC = int(1, 3)
  const size = int(6, 10)
  const inputShape = dims === 2 ? [inC, size, int(6, 10)] : [inC, int(8, 20)]
  const tensors: TensorMap = new Map()
  const steps: ArchStep[] = []
  const rand = (n: number, s = 0.5) => Array.from({ length: n }, () => (r() * 2 - 1) * s)
  let c = inC
  for (let k = 0; k < int(1, 2); k++) {
    const depthwise = r() < 0.3
    const outC = depthwise ? c * int(1, 2) : int(1, 4)
    const groups = depthwise ? c : 1
    const kernel = Array.from({ length: dims }, () => int(1, 3))
    const name = `conv${k}`
    tensors.set(`${name}.weight`, tensor([outC, c / groups, ...kernel], rand((outC * c * kernel.reduce((a, b) => a * b, 1)) / groups)))
    if (r() < 0.7) tensors.set(`${name}.bias`, tensor([outC], rand(outC, 0.2)))
    const stride = Array.from({ length: dims }, () => int(1, 2))
    const same = stride.every((s) => s === 1) && r() < 0.4
    const pad = Array.from({ length: dims }, () => int(0, 1))
    const dilation = Array.from({ length: dims }, () => int(1, 2))
    steps.push({ op: 'conv', name, dims, stride, dilation, groups, padding: same ? 'same_upper' : { begin: pad, end: pad } })
    if (r() < 0.3) {
      const bn = `bn${k}`
      tensors.set(`${bn}.weight`, tensor([outC], rand(outC).map((v) => 1 + v)))
      tensors.set(`${bn}.bias`, tensor([outC], rand(outC, 0.3)))
      tensors.set(`${bn}.running_mean`, tensor([outC], rand(outC, 0.3)))
      tensors.set(`${bn}.running_var`, tensor([outC], rand(outC).map((v) => 1 + v)))
      steps.push({ op: 'batchnorm', name: bn })
    }
    steps.push({ op: 'activation', activation: ACTS[int(0, ACTS.length - 1)]! })
    c = outC
  }
  const pool = int(0, 3)
  if (pool === 1) steps.push({ op: 'maxpool', dims, kernel: new Array(dims).fill(2), padding: { begin: new Array(dims).fill(int(0, 1)), end: new Array(dims).fill(0) } })
  if (pool === 2) steps.push({ op: 'avgpool', dims, kernel: new Array(dims).fill(2), stride: new Array(dims).fill(1), countIncludePad: r() < 0.5, padding: { begin: new Array(dims).fill(1), end: new Array(dims).fill(1) } })
  if (pool === 3) steps.push({ op: 'globalavgpool' })
  if (pool > 0 && r() < 0.3) steps.push({ op: 'activation', activation: { kind: 'relu' } })
  steps.push({ op: 'flatten' })
  // the head's input size comes from a first build without it
  const flat = buildTensorLayers(steps, inputShape, (k) => tensors.get(k)!, (k) => tensors.get(k), () => {}, 't').flatSize!
  const linear = (name: string, out: number, inp: number) => {
    tensors.set(`${name}.weight`, tensor([out, inp], rand(out * inp, 0.3)))
    tensors.set(`${name}.bias`, tensor([out], rand(out, 0.1)))
    return { op: 'linear' as const, name }
  }
  // two heads (issue 19): 3 class outputs (softmax half the time), and a value through a hidden Linear
  if (heads) {
    const soft: ArchStep[] = r() < 0.5 ? [{ op: 'activation', activation: { kind: 'softmax' } }] : []
    const hidden = int(2, 5)
    steps.push({ op: 'heads', names: ['cls', 'value'], branches: [[linear('fc', 3, flat), ...soft], [linear('v1', hidden, flat), { op: 'activation', activation: ACTS[int(0, ACTS.length - 1)]! }, linear('v2', 1, hidden)]] })
  } else steps.push(linear('fc', 3, flat))
  const model = buildModel(steps, tensors, 't', 't', inputShape)
  return { model, describe: `seed ${seed}: ${JSON.stringify(inputShape)} ${model.tensorLayers!.map((l) => `${l.kind}${l.kind === 'conv' ? `(k${l.kernel} s${l.stride} d${l.dilation} p${l.padBegin}/${l.padEnd} g${l.groups})` : ''} ${l.activation.kind}`).join(' → ')}` }
}


/** The first `n` random CNNs from `seed` on that build. */
export function randomCnns(n: number, seed = 1, heads = false): { model: ModelIR; describe: string }[] {
  const out: { model: ModelIR; describe: string }[] = []
  for (let s = seed; out.length < n; s++) {
    try {
      out.push(randomCnn(s, heads))
    } catch (e) {
      if (!/does not fit/.test(String(e))) throw e
    }
  }
  return out
}

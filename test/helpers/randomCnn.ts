// Random small CNNs (conv (+BN) (+act), a pool, maybe a second conv, a Linear head) for the on-chain
// tests and the simulator tests (test/fixed/conv.test.ts).
import { buildModel } from '../../src/ir/buildModel.ts'
import { buildTensorLayers } from '../../src/ir/buildTensorLayers.ts'
import type { Activation, ArchStep, ModelIR, TensorMap } from '../../src/ir/types.ts'
import { rng } from './rng.ts'

const tensor = (shape: number[], data: number[]) => ({ shape, data: Float64Array.from(data) })

const ACTS: Activation[] = [{ kind: 'identity' }, { kind: 'relu' }, { kind: 'leaky_relu', slope: 0.1 }, { kind: 'sigmoid' }, { kind: 'tanh' }]

/**
 * A random small CNN (a window larger than its input throws 'does not fit': draw again): conv (+BN) (+act), a
 * pool, maybe a second conv, then a Linear head. `features` names what it drew (for a test that runs a few
 * of many to check they still reach everything the many did).
 */
export function randomCnn(seed: number, heads = false): { model: ModelIR; describe: string; features: string[] } {
  const r = rng(seed)
  const features = new Set<string>()
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1))
  const dims = r() < 0.5 ? 1 : 2
  const inC = int(1, 3)
  const size = int(6, 10)
  const inputShape = dims === 2 ? [inC, size, int(6, 10)] : [inC, int(8, 20)]
  features.add(`${dims}-D`).add(inC > 1 ? 'several input channels' : 'one input channel')
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
    else features.add('conv without bias')
    const stride = Array.from({ length: dims }, () => int(1, 2))
    const same = stride.every((s) => s === 1) && r() < 0.4
    const pad = Array.from({ length: dims }, () => int(0, 1))
    const dilation = Array.from({ length: dims }, () => int(1, 2))
    steps.push({ op: 'conv', name, dims, stride, dilation, groups, padding: same ? 'same_upper' : { begin: pad, end: pad } })
    if (depthwise) features.add(outC > c ? 'depthwise ×2' : 'depthwise')
    if (k > 0) features.add('two convs')
    if (stride.some((v) => v > 1)) features.add('stride 2')
    if (dilation.some((v) => v > 1)) features.add('dilation 2')
    features.add(same ? `padding same${kernel.some((v) => v % 2 === 0) ? ', an even kernel' : ''}` : pad.some((v) => v > 0) ? 'padding 1' : 'no padding')
    features.add(kernel.every((v) => v === 1) ? '1-wide kernel' : 'kernel > 1')
    if (r() < 0.3) {
      const bn = `bn${k}`
      tensors.set(`${bn}.weight`, tensor([outC], rand(outC).map((v) => 1 + v)))
      tensors.set(`${bn}.bias`, tensor([outC], rand(outC, 0.3)))
      tensors.set(`${bn}.running_mean`, tensor([outC], rand(outC, 0.3)))
      tensors.set(`${bn}.running_var`, tensor([outC], rand(outC).map((v) => 1 + v)))
      steps.push({ op: 'batchnorm', name: bn })
      features.add('batchnorm')
    }
    const act = ACTS[int(0, ACTS.length - 1)]!
    steps.push({ op: 'activation', activation: act })
    features.add(`conv ${act.kind}`)
    c = outC
  }
  const pool = int(0, 3)
  if (pool === 0) features.add('no pool')
  if (pool === 1) {
    const padded = int(0, 1)
    steps.push({ op: 'maxpool', dims, kernel: new Array(dims).fill(2), padding: { begin: new Array(dims).fill(padded), end: new Array(dims).fill(0) } })
    features.add(padded ? 'maxpool padded' : 'maxpool')
  }
  if (pool === 2) {
    const countIncludePad = r() < 0.5
    steps.push({ op: 'avgpool', dims, kernel: new Array(dims).fill(2), stride: new Array(dims).fill(1), countIncludePad, padding: { begin: new Array(dims).fill(1), end: new Array(dims).fill(1) } })
    features.add(`avgpool countIncludePad ${countIncludePad}`)
  }
  if (pool === 3) (steps.push({ op: 'globalavgpool' }), features.add('globalavgpool'))
  if (pool > 0 && r() < 0.3) (steps.push({ op: 'activation', activation: { kind: 'relu' } }), features.add('relu after the pool'))
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
  return { model, features: [...features], describe: `seed ${seed}: ${JSON.stringify(inputShape)} ${model.tensorLayers!.map((l) => `${l.kind}${l.kind === 'conv' ? `(k${l.kernel} s${l.stride} d${l.dilation} p${l.padBegin}/${l.padEnd} g${l.groups})` : ''} ${l.activation.kind}`).join(' → ')}` }
}


/** The first `n` random CNNs from `seed` on that build. */
export function randomCnns(n: number, seed = 1, heads = false): ReturnType<typeof randomCnn>[] {
  const out: ReturnType<typeof randomCnn>[] = []
  for (let s = seed; out.length < n; s++) {
    try {
      out.push(randomCnn(s, heads))
    } catch (e) {
      if (!/does not fit/.test(String(e))) throw e
    }
  }
  return out
}

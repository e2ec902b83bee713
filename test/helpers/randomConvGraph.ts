// Random small graph CNNs (issue 19): a stem conv (or none: a join reads the input), then random residual blocks (identity skip, or a skip through a
// 1×1 conv, with a random activation after the sum) and channel concats of two conv branches (1×1 / 3×3, with
// and without padding, so that a branch reads a tensor whose halo is another's), a pool maybe, a Linear head.
// For the on-chain differential fuzz (test/fuzz/convgraph-differential.test.ts) and the simulator tests.
import { buildModel } from '../../src/ir/buildModel.ts'
import { buildTensorLayers } from '../../src/ir/buildTensorLayers.ts'
import type { Activation, ArchStep, ModelIR, TensorMap } from '../../src/ir/types.ts'
import { rng } from './rng.ts'

const tensor = (shape: number[], data: number[]) => ({ shape, data: Float64Array.from(data) })

const ACTS: Activation[] = [{ kind: 'identity' }, { kind: 'relu' }, { kind: 'leaky_relu', slope: 0.1 }, { kind: 'tanh' }, { kind: 'sigmoid' }]

/** A random graph CNN: seed → model; `describe` lists its tensor layers (joins with the values they read). */
export function randomConvGraph(seed: number): { model: ModelIR; describe: string } {
  const r = rng(seed)
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1))
  const dims = r() < 0.3 ? 1 : 2
  const inC = int(1, 2)
  const inputShape = dims === 2 ? [inC, int(4, 7), int(4, 7)] : [inC, int(8, 14)]
  const tensors: TensorMap = new Map()
  const rand = (n: number, s = 0.5) => Array.from({ length: n }, () => (r() * 2 - 1) * s)
  const act = (): ArchStep => ({ op: 'activation', activation: ACTS[int(0, ACTS.length - 1)]! })
  let n = 0
  /** A conv keeping the spatial size (kernel 1, or 3 with padding 1) from c to out channels. */
  const conv = (c: number, out: number, k = r() < 0.5 ? 1 : 3): ArchStep => {
    const name = `conv${n++}`
    const kernel = new Array<number>(dims).fill(k)
    tensors.set(`${name}.weight`, tensor([out, c, ...kernel], rand(out * c * k ** dims, 0.6)))
    if (r() < 0.7) tensors.set(`${name}.bias`, tensor([out], rand(out, 0.2)))
    const pad = new Array<number>(dims).fill((k - 1) / 2)
    return { op: 'conv', name, dims, padding: { begin: pad, end: [...pad] } }
  }
  // a quarter start with a block: a join then reads the model's input itself (kept at the activation scale)
  const stem = r() < 0.75
  let c = stem ? int(2, 4) : inC
  const steps: ArchStep[] = stem ? [conv(inC, c), act()] : []
  for (let b = 0; b < int(1, 3); b++) {
    if (r() < 0.55) {
      // a residual block: f(x) + x, or f(x) + proj(x) (a 1×1 conv on the skip), then maybe an activation
      const f: ArchStep[] = [conv(c, c), ...(r() < 0.7 ? [act()] : []), ...(r() < 0.5 ? [conv(c, c)] : [])]
      const skip: ArchStep[] = r() < 0.4 ? [conv(c, c, 1)] : []
      steps.push({ op: 'join', kind: 'add', branches: r() < 0.5 ? [f, skip] : [skip, f] })
    } else {
      // a channel concat of two conv branches (or of one branch and the value itself)
      const a = int(1, 3)
      const bOut = int(1, 3)
      const left: ArchStep[] = [conv(c, a), act()]
      const right: ArchStep[] = r() < 0.25 ? [] : [conv(c, bOut), act()]
      steps.push({ op: 'join', kind: 'concat', branches: [left, right] })
      c = a + (right.length ? bOut : c)
    }
    if (r() < 0.5) steps.push(act())
  }
  if (r() < 0.4) steps.push({ op: 'maxpool', dims, kernel: new Array(dims).fill(2) })
  else if (r() < 0.3) steps.push({ op: 'avgpool', dims, kernel: new Array(dims).fill(2), stride: new Array(dims).fill(1) })
  steps.push({ op: 'flatten' })
  const flat = buildTensorLayers(steps, inputShape, (k) => tensors.get(k)!, (k) => tensors.get(k), () => {}, 't').flatSize!
  tensors.set('fc.weight', tensor([3, flat], rand(3 * flat, 0.3)))
  tensors.set('fc.bias', tensor([3], rand(3, 0.1)))
  steps.push({ op: 'linear', name: 'fc' })
  const model = buildModel(steps, tensors, 't', 't', inputShape)
  const layers = model.tensorLayers!.map((l) => `${l.kind}${'values' in l ? `(${l.values})` : l.kind === 'conv' ? `(k${l.kernel[0]}${l.from !== undefined ? ` from ${l.from}` : ''})` : ''} ${l.activation.kind}`)
  return { model, describe: `seed ${seed}: ${JSON.stringify(inputShape)} ${layers.join(' → ')}` }
}

import { NumericsError } from '../errors/base.ts'
import type { LayerPlan } from './types.ts'

const sameInts = (a: bigint[][], b: bigint[][]) => a.length === b.length && a.every((r, i) => r.length === b[i]!.length && r.every((v, j) => v === b[i]![j]))

/**
 * A module applied several times (ir/sharedLayers.ts) is stored once: each later use of layer j reads j's lane
 * groups in the blob (codegen/weights/weightBlob.ts). That needs the same quantised weights and biases (the
 * weight scale comes from the weights, so it is the same; a first layer with its own input scale is quantised
 * apart) and one lane layout: the widest lane any use needs (each use's interval differs) and so the fewest
 * lanes. Sets `shares` on the layers that qualify. `pinned`: a deployed contract's sharing (an update), which
 * the new weights must keep; undefined for a new deployment.
 */
export function shareLayers(layers: LayerPlan[], shares: (number | undefined)[], pinned?: (number | null)[]): void {
  const want = pinned ? layers.map((_, l) => pinned[l] ?? undefined) : shares
  // one stored copy needs one field width too (a mixed plan may give two uses different widths)
  const same = (a: LayerPlan, b: LayerPlan) => a.weightBytes === b.weightBytes && a.nIn === b.nIn && a.nOut === b.nOut && a.wShift === b.wShift && sameInts(a.weights, b.weights) && sameInts([a.biases], [b.biases])
  want.forEach((j, l) => {
    if (j === undefined) return
    const b = layers[l]!
    if (pinned) {
      if (!same(layers[j]!, b)) throw new NumericsError(`layer ${l} ('${b.name}') shares its weights with layer ${j} ('${layers[j]!.name}') in the deployed contract, but the new weights of the two differ`, { hint: 'deploy the new model with `ml2sc run`' })
      return void (b.shares = j)
    }
    // the module's first use, else (a first layer quantised at its inputs' own scale) its first use stored with these bytes
    const k = [j, ...want.flatMap((w, i) => (w === j && i < l && layers[i]!.shares === undefined ? [i] : []))].find((i) => same(layers[i]!, b))
    if (k !== undefined) b.shares = k
  })
  for (let j = 0; j < layers.length; j++) {
    const uses = layers.filter((x, l) => l === j || x.shares === j)
    if (uses.length < 2) continue
    const laneBits = Math.max(...uses.map((x) => x.laneBits))
    const lanes = Math.min(...uses.map((x) => x.lanes))
    for (const x of uses) (x.laneBits = laneBits), (x.lanes = lanes)
  }
}

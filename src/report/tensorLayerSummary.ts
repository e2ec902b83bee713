import { describeActivation } from '../ir/buildModel.ts'
import { macsOf } from '../ir/tensorShapes.ts'
import type { TensorLayer } from '../ir/tensorTypes.ts'

/** report.json's view of a convolutional model's conv/pool layers. */
export type TensorLayerSummary = { name: string; kind: string; outShape: number[]; activation: string; macs: number }

export function tensorLayerSummary(layers: TensorLayer[]): TensorLayerSummary[] {
  return layers.map((l) => ({
    name: l.name,
    kind: l.kind === 'avgpool' && l.global ? 'globalavgpool' : l.kind,
    outShape: l.outShape,
    activation: describeActivation(l.activation),
    macs: macsOf(l),
  }))
}

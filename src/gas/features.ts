import type { Plan } from '../fixed/types.ts'
import { blobLayout, chunkSizes } from '../codegen/weightBlob.ts'
import { decodesInputs } from '../codegen/inferenceYul.ts'

/** What drives gas, per model: the terms of the analytic gas model (see gasModel.ts). */
export type GasFeatures = {
  parameters: number
  /** SIMD words multiplied per row: Σ over layers of lane groups × inputs. */
  macWords: number
  /** Outputs unpacked from lanes per row: Σ nOut. */
  outputs: number
  /** exp evaluations per row (sigmoid, tanh, softmax outputs). */
  exps: number
  rowBytes: number
  /** Features decoded from calldata into memory per row (when the first layer has several lane groups). */
  decodes: number
  outRowBytes: number
  blobBytes: number
  chunks: number
}

export function gasFeatures(plan: Plan, chunkSize?: number): GasFeatures {
  const blob = blobLayout(plan).length
  return {
    parameters: plan.layers.reduce((n, l) => n + l.nOut * (l.nIn + 1), 0),
    macWords: plan.layers.reduce((n, l) => n + Math.ceil(l.nOut / l.lanes) * l.nIn, 0),
    outputs: plan.layers.reduce((n, l) => n + l.nOut, 0),
    exps: plan.layers.reduce((n, l) => n + (['sigmoid', 'tanh', 'softmax'].includes(l.activation.kind) ? l.nOut : 0), 0),
    rowBytes: plan.inputSize * plan.inputBytes,
    decodes: decodesInputs(plan) ? plan.inputSize : 0,
    outRowBytes: plan.outputSize * plan.outputBytes,
    blobBytes: blob,
    chunks: chunkSizes(blob, chunkSize).length,
  }
}

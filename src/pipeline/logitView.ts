import type { Plan } from '../fixed/types.ts'
import type { ModelIR } from '../ir/types.ts'

/**
 * A saturated sigmoid (or softmax, tanh) hides the error of the logits beneath it: on calibration rows that
 * are all classified with confidence, a too-narrow width shows no output error at all, and then does on
 * the rows near a class boundary. So `precision: auto` measures the error of the last layer's logits
 * (the same model with an identity last activation) and scales it by the activation's Lipschitz bound:
 * |Δsigmoid| ≤ |Δz|/4, |Δsoftmax_i| ≤ max|Δz|/2, |Δtanh| ≤ |Δz|. That bounds the output error on any row,
 * seen or not. Other last activations (identity, relu, leaky relu) need no view (undefined).
 */
export type LogitView = {
  model: ModelIR
  /** The plan with the last activation replaced by identity (the same integers up to the logits). */
  plan: (p: Plan) => Plan
  /** Output error ≤ lipschitz × logit error. */
  lipschitz: number
  /** Outputs (e.g. PyTorch's probabilities) → logits with the same class. */
  toLogits: (y: number[]) => number[]
}

const LIPSCHITZ = { sigmoid: 0.25, softmax: 0.5, tanh: 1 } as const
const clampP = (p: number) => Math.min(1 - 1e-15, Math.max(1e-15, p))

export function logitView(model: ModelIR): LogitView | undefined {
  const last = model.layers[model.layers.length - 1]!
  const kind = last.activation.kind
  if (kind !== 'sigmoid' && kind !== 'softmax' && kind !== 'tanh') return undefined
  const identity = { kind: 'identity' } as const
  return {
    model: { ...model, layers: [...model.layers.slice(0, -1), { ...last, activation: identity }] },
    plan: (p) => ({ ...p, layers: [...p.layers.slice(0, -1), { ...p.layers[p.layers.length - 1]!, activation: identity }] }),
    lipschitz: LIPSCHITZ[kind],
    toLogits: (y) =>
      kind === 'sigmoid' ? y.map((p) => Math.log(clampP(p) / (1 - clampP(p)))) : kind === 'softmax' ? y.map((p) => Math.log(clampP(p))) : y.map((t) => Math.atanh(Math.max(-1 + 1e-15, Math.min(1 - 1e-15, t)))),
  }
}

import { ConfigError } from '../../errors/base.ts'
import type { LayerPlan, Plan } from '../../fixed/types.ts'
import { cellsOf } from '../../ir/recurrentTypes.ts'
import { convMemory } from './convMemory.ts'
import { convNetYul, fusedAvgPools, fusedPools } from './convNetYul.ts'
import { tensorStepsOf } from './tensorStepsOf.ts'

/** EIP-170's code limit, less what the rest of the contract (dispatch, admin call, activations) takes. */
const CODE_FOR_TAPS = 24_576 - 8_000
/** Bytes of code per unrolled tap (PUSH offset, DUP, ADD, MLOAD, PUSH weight, MLOAD, MUL, ADD). */
const BYTES_PER_TAP = 14
/** A convolutional model embeds its weights only up to this size: the unrolled taps need the room. */
export const CONV_EMBED_LIMIT = 4_096

/** What generateSolidity needs from the inference kernel of a plan (dense or convolutional). */
export type InferenceParts = {
  blob: number
  blobLength: number
  /** Where one row's outputs are (one word each), with two free words before them. */
  outputsAt: number
  /** Where a batch's packed outputs go (ABI bytes). */
  end: number
  /** Yul, once per transaction after the blob is in memory. */
  perTx: string
  /** Yul for one row at calldata `rp`. */
  perRow: string
}

/** The conv kernel's parts for a convolutional plan: tensors and packed lane words at fixed addresses. */
export function convInference(plan: Plan, opts: { layout: string; embeddedBytes: number }): InferenceParts {
  if (opts.layout === 'code')
    throw new ConfigError('weights.layout `code` is not available for convolutional models', { where: 'weights.layout', hint: 'use `datacontract` (the default) or `storage`' })
  const steps = tensorStepsOf(plan)
  const budget = Math.max(0, Math.floor((CODE_FOR_TAPS - opts.embeddedBytes) / BYTES_PER_TAP))
  // a conv's output is never stored when its max pool, or its average pool, runs inside it
  const avg = fusedAvgPools(steps, budget)
  const mem = convMemory(steps, plan.weightBytes, plan.biasBytes, plan.outputBytes, fusedPools(steps).map((f, i) => f || avg[i]!))
  const yul = convNetYul(steps, plan, mem, budget)
  return { blob: mem.blob, blobLength: mem.blobLayout.length, outputsAt: mem.tensors[mem.tensors.length - 1]!.at, end: mem.end, perTx: yul.perTx, perRow: yul.perRow }
}

/**
 * The plan seen by the activation helpers (activationYul.ts): its dense layers plus one entry per
 * conv/pool layer, so that every activation the tensor layers use gets its Yul function. A pool's value
 * is not bounded by a lane, so it claims a 256-bit one (exp keeps its clamp).
 */
export function activationPlanOf(plan: Plan): Plan {
  const extra = (plan.tensorLayers ?? []).map(
    (l) => ({ name: l.name, activation: l.activation, slopeQ: l.slopeQ, laneBits: l.kind === 'conv' ? l.laneBits : 256, wShift: l.kind === 'conv' ? l.wShift : 0 }) as unknown as LayerPlan,
  )
  // a GRU/LSTM's gates: σ and tanh on any value (256-bit lanes: exp keeps its clamp)
  // a GRU/LSTM's gates, each claiming a lane that holds its largest argument (so that exp can leave out its
  // clamp when none can overflow): σ of a block's lanes; tanh of n = nx + r·nh (both blocks' lanes, one bit
  // more) or of LSTM's c (|c| ≤ cMax)
  const r = plan.recurrent
  const bits = (v: bigint) => v.toString(2).length
  const gate = (kind: 'sigmoid' | 'tanh', laneBits: number, wShift: number) => ({ name: r!.name, activation: { kind }, slopeQ: 0n, laneBits, wShift, nOut: 2 }) as unknown as LayerPlan
  const gates = (r ? cellsOf(r) : []).flatMap((c) => {
    const widest = Math.max(...c.blocks.map((b) => b.laneBits))
    return [gate('sigmoid', widest, c.wShift), c.kind === 'gru' ? gate('tanh', widest + 1, c.wShift) : gate('tanh', bits(c.cMax) + 2, 0)]
  })
  // self-attention's softmax over the scores (the helper of ir/ops/softmax.ts; 256-bit: exp keeps its clamp)
  const a = plan.attention
  const fake = (activation: unknown, nOut: number) => ({ name: a!.name, activation, slopeQ: 0n, laneBits: 256, wShift: 0, nOut }) as unknown as LayerPlan
  // an encoder's norms and feed-forward activation too
  const attn = a ? [fake({ kind: 'softmax' }, a.tokens), ...(a.encoder ? [fake(a.encoder.norm1, a.embed), fake(a.encoder.act, 2)] : [])] : []
  return { ...plan, layers: [...plan.layers, ...extra, ...gates, ...attn] }
}

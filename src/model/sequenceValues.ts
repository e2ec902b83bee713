import type { ReadoutSpec } from '../ir/recurrentTypes.ts'
import type { ArchStep } from '../ir/types.ts'

/**
 * What a GRU/LSTM's result is while forward() (model.py or TorchScript code) takes it apart, read exactly as
 * PyTorch computes it, with no T or layer count known yet (buildRecurrent resolves the readout):
 * - `pair`: the (output, h_n[, c_n]) tuple; `out`: the output sequence, [B, T, D·H] when `bf` (batch first)
 *   else [T, B, D·H]; `h`: h_n [L·D, B, H]; `hT`: h_n with its first two axes swapped; `c`: c_n;
 * - `steps`: per-step layers applied to a batch-first `out` ([B, T, O]: Linear at every step, activations);
 * - `pieces`: a [B, K] tensor: the states the readout specs select (then `post`: layers already applied to it).
 * Anything else (a batch_first=False sequence flattened, a cell state going on, a slice of a state) is refused.
 */
export type SeqVal =
  | { k: 'pair'; bf: boolean }
  | { k: 'out'; bf: boolean }
  | { k: 'h' }
  | { k: 'hT' }
  | { k: 'c' }
  | { k: 'steps'; post: ArchStep[] }
  | { k: 'pieces'; specs: ReadoutSpec[]; post: ArchStep[] }

export const SEQ_HINT =
  'take out[:, -1, :] (batch_first=True), out[-1] (batch_first=False), h_n[-1], torch.cat((h_n[-2], h_n[-1]), 1), or the whole sequence out.reshape(B, -1) / self.fc(out).flatten(1) (batch first); then Linear layers'

/** A refusal: what PyTorch's value is and why it cannot go on. */
export class SeqUnsupported extends Error {}

const what = (v: SeqVal) =>
  ({ pair: 'the (output, h_n) tuple', out: 'the output sequence', h: 'h_n', hT: 'h_n transposed', c: 'the cell state c_n', steps: 'the per-step layers\' output', pieces: 'the selected states' })[v.k]

const fail = (v: SeqVal, op: string): never => {
  throw new SeqUnsupported(`${op} of ${what(v)}${v.k === 'out' ? ` (batch_first=${v.bf ? 'True' : 'False'})` : ''}`)
}

/** v.select(dim, k) (v[..., k, ...] in one axis; a negative dim counts from the end of a rank-3 tensor). */
export function seqSelect(v: SeqVal, dim: number, k: number): SeqVal {
  const d = dim < 0 ? dim + (v.k === 'pieces' ? 2 : 3) : dim
  if (v.k === 'out' && d === (v.bf ? 1 : 0)) return { k: 'pieces', specs: [{ out: k }], post: [] }
  if (v.k === 'h' && d === 0) return { k: 'pieces', specs: [{ hn: k }], post: [] }
  if (v.k === 'hT' && d === 1) return { k: 'pieces', specs: [{ hn: k }], post: [] }
  // self.fc(out)[:, -1, :]: the per-step Linear at step k is the Linear of out[:, k, :]
  if (v.k === 'steps' && d === 1) return { k: 'pieces', specs: [{ out: k }], post: v.post.map(({ perStep: _p, ...s }: ArchStep & { perStep?: true }) => s as ArchStep) }
  return fail(v, `index ${k} on axis ${dim}`)
}

/** The items of a subscript's index text (`[:, -1, :]`, `[-2]`) applied as selects; full slices keep their axis. */
export function seqIndex(v: SeqVal, index: string): SeqVal {
  const items = index.replace(/\s+/g, '').replace(/^\[|\]$/g, '').split(',')
  let axis = 0
  for (const it of items) {
    if (it === ':' || it === '::' || it === '...') {
      if (it === '...' && items.length > 1) return fail(v, `index ${index}`)
      axis++
      continue
    }
    if (!/^-?\d+$/.test(it)) return fail(v, `index ${index}`)
    v = seqSelect(v, axis, Number(it))
  }
  return v
}

/** v.transpose(0, 1) / v.permute(1, 0, 2) / v.swapaxes(0, 1). */
export function seqTranspose(v: SeqVal): SeqVal {
  if (v.k === 'out') return { k: 'out', bf: !v.bf }
  if (v.k === 'h') return { k: 'hT' }
  if (v.k === 'hT') return { k: 'h' }
  return fail(v, 'a transpose')
}

/** v.reshape(B, −1) / v.view(B, −1) / v.flatten(1) / torch.flatten(v, 1): every axis after the batch's, in order. */
export function seqFlatten(v: SeqVal): SeqVal {
  if (v.k === 'out' && v.bf) return { k: 'pieces', specs: [{ seq: true }], post: [] }
  if (v.k === 'hT') return { k: 'pieces', specs: [{ hn: 'all' }], post: [] }
  if (v.k === 'steps') return { k: 'pieces', specs: [{ seq: true }], post: v.post }
  if (v.k === 'pieces') return v
  if (v.k === 'out') throw new SeqUnsupported('flattening the output sequence of a batch_first=False module mixes the batch into it: out.transpose(0, 1) first')
  return fail(v, 'a flatten')
}

/** h_n.squeeze(0): h_T of a one-layer, one-direction module (checked when the layer count is known). */
export function seqSqueeze(v: SeqVal, dim: number | undefined): SeqVal {
  if (v.k === 'h' && (dim === 0 || dim === undefined)) return { k: 'pieces', specs: [{ hn: 'only' }], post: [] }
  if (v.k === 'pieces' && dim !== 0) return v
  return fail(v, `squeeze(${dim ?? ''})`)
}

/** torch.cat([a, b, …], dim=1 or −1) of selected states. */
export function seqCat(items: SeqVal[]): SeqVal {
  const specs: ReadoutSpec[] = []
  for (const v of items) {
    if (v.k !== 'pieces' || v.post.length) return fail(v, 'torch.cat')
    specs.push(...v.specs)
  }
  return { k: 'pieces', specs, post: [] }
}

/** A module or activation applied to a sequence value: per step on `out` (batch first) / `steps`, in order on `pieces`. */
export function seqApply(v: SeqVal, steps: ArchStep[]): SeqVal {
  if (v.k === 'pieces') return { ...v, post: [...v.post, ...steps] }
  const ok = steps.every((s) => s.op === 'linear' || s.op === 'activation' || s.op === 'skip')
  if (ok && v.k === 'steps') return { k: 'steps', post: [...v.post, ...steps.map((s) => (s.op === 'linear' ? { ...s, perStep: true as const } : s))] }
  if (ok && v.k === 'out' && v.bf && steps[0]?.op === 'linear') return seqApply({ k: 'steps', post: [] }, steps)
  return fail(v, steps[0]?.op === 'linear' ? `Linear '${steps[0].name}' (per step, batch first only)` : `${steps[0]?.op ?? 'a layer'}`)
}

const GOING_ON = {
  pair: 'the (output, h_n) tuple going on',
  out: 'the whole output sequence going on unflattened',
  h: 'h_n [layers·directions, B, H] going on (index it: h_n[-1])',
  hT: 'h_n transposed going on unflattened',
  c: 'the cell state c_n going on',
  steps: "the per-step layers' output [B, T, out] going on unflattened (.flatten(1))",
}

/** The steps of a plain [B, K] tensor: the recurrent step (the last of `before`) given its readout, then `post`. */
export function seqPlain(v: SeqVal, before: ArchStep[]): ArchStep[] {
  if (v.k !== 'pieces') throw new SeqUnsupported(GOING_ON[v.k])
  let i = before.length - 1
  while (i > 0 && before[i]!.op !== 'gru' && before[i]!.op !== 'lstm') i--
  return [...before.slice(0, i), { ...before[i]!, readout: v.specs } as ArchStep, ...before.slice(i + 1), ...v.post]
}

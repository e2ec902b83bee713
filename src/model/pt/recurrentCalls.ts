import type { ArchStep } from '../../ir/types.ts'
import { seqApply, seqCat, seqFlatten, seqPlain, seqSelect, seqSqueeze, seqTranspose, SeqUnsupported, type SeqVal } from '../sequenceValues.ts'
export { SeqUnsupported }
import type { ClassCode } from './torchscriptCode.ts'

/**
 * A GRU/LSTM in TorchScript code, read without running anything:
 * - traced (`(gru).forward(x, )`): the module's own traced forward() calls `torch.gru(x, hx, params,
 *   has_biases, num_layers, dropout, train, bidirectional, batch_first)` (`torch.lstm` alike) and returns what
 *   the caller used: `out`, `h`, `c` or a tuple of them;
 * - scripted (`(gru).forward__0(x, None, )`): nn.GRU's whole forward, returning (out, h_n) / (out, (h_n, c_n));
 *   batch_first comes from the class's `batch_first : Final[bool]` constant.
 */
export type SeqResult = { k: 'seq'; steps: ArchStep[]; s: SeqVal } | { k: 'tuple'; items: SeqResult[] }

export function recurrentCall(step: ArchStep, code: ClassCode | undefined, method: string, hasH0: boolean): SeqResult | string {
  if (step.op !== 'gru' && step.op !== 'lstm') return 'not a recurrent module'
  if (hasH0) return 'an initial state passed to the GRU/LSTM'
  const steps: ArchStep[] = [step]
  const part = (what: string, bf: boolean): SeqResult => ({ k: 'seq', steps, s: what === 'out' ? { k: 'out', bf } : what === 'h' ? { k: 'h' } : { k: 'c' } })
  if (method.startsWith('forward__')) {
    const bf = code?.finals.get('batch_first') === 'True'
    steps[0] = { ...step, batchFirst: bf }
    return { k: 'tuple', items: [part('out', bf), step.op === 'lstm' ? { k: 'tuple', items: [part('h', bf), part('c', bf)] } : part('h', bf)] }
  }
  const body = code?.forward?.body.map((l) => l.trim()) ?? []
  const call = body.map((l) => /^(.+?)\s*=\s*torch\.(gru|lstm)\((.*)\)$/.exec(l)).find(Boolean)
  const ret = body.find((l) => l.startsWith('return '))?.slice(7).replace(/[()\s]/g, '')
  if (!call || !ret) return `no torch.${step.op}(…) call in the module's traced forward()`
  const names = call[1]!.split(',').map((n) => n.trim()).filter(Boolean)
  const args = call[3]!.split(',').map((a) => a.trim())
  const bf = args[args.length - 1] === 'True'
  steps[0] = { ...step, batchFirst: bf }
  const whats = ['out', 'h', 'c']
  const items = ret.split(',').filter(Boolean).map((r) => names.indexOf(r))
  if (items.some((i) => i < 0)) return `the traced forward() returns '${ret}', not torch.${step.op}'s outputs`
  return items.length === 1 ? part(whats[items[0]!]!, bf) : { k: 'tuple', items: items.map((i) => part(whats[i]!, bf)) }
}

/** torch.<fn>(args) on a sequence value, as PyTorch computes it; undefined when `fn` is not one of these. */
export function seqFunction(name: string, s: SeqVal, args: unknown[]): SeqVal | undefined {
  const n = (i: number) => (typeof args[i] === 'number' ? (args[i] as number) : NaN)
  switch (name) {
    case 'torch.select':
      return seqSelect(s, n(1), n(2))
    case 'torch.slice':
      // out[:, …] keeps the axis whole: torch.slice(v, dim, 0, 9223372036854775807); a script's torch.slice(out) and torch.slice(v, 1) leave the defaults out
      if ((args[2] === 0 || args[2] == null) && (args[3] == null || n(3) >= 2 ** 62) && (args[4] === undefined || args[4] === 1)) return s
      throw new SeqUnsupported(`a slice [${String(args[2])}:${String(args[3])}] on axis ${n(1)}`)
    case 'torch.flatten':
      if (n(1) !== 1) throw new SeqUnsupported(`flatten from axis ${n(1)}`)
      return seqFlatten(s)
    case 'torch.reshape':
    case 'torch.view': {
      // [int(_1), -1], [(torch.size(out))[0], -1]: to [batch, -1]
      const shape = args[1]
      if (!Array.isArray(shape) || shape.length !== 2 || (shape[1] !== -1 && shape[0] !== -1)) throw new SeqUnsupported(`a reshape to ${Array.isArray(shape) ? `[${shape.map(String)}]` : 'a computed shape'}`)
      return seqFlatten(s)
    }
    case 'torch.squeeze':
      return seqSqueeze(s, args.length > 1 ? n(1) : undefined)
    case 'torch.transpose':
      if (`${n(1)},${n(2)}` !== '0,1' && `${n(1)},${n(2)}` !== '1,0') throw new SeqUnsupported(`transpose(${n(1)}, ${n(2)})`)
      return seqTranspose(s)
    case 'torch.permute':
      if (String(args[1]) !== '1,0,2') throw new SeqUnsupported(`permute(${String(args[1])})`)
      return seqTranspose(s)
    case 'torch.contiguous':
      return s
  }
  return undefined
}

/** The values of the forward interpreter (forwardInterpreter.ts) this file needs. */
export type CallVal = { k: string; steps?: ArchStep[]; s?: SeqVal; items?: CallVal[]; v?: unknown; name?: string; node?: unknown; method?: string }

/**
 * A call that takes a sequence value (or makes one): a submodule on it (per step, or a Linear after the
 * selected states), a torch function of the list above, torch.cat of selected states, an activation on a
 * per-step output. undefined: not a sequence call. `apply` gives the steps a function adds to a plain tensor.
 */
export function seqCall(fnName: string | undefined, args: CallVal[], raw: unknown[], childSteps: (() => ArchStep[]) | undefined, apply: () => ArchStep[]): CallVal | undefined {
  const x = args[0]
  if (fnName === 'torch.cat' && x?.k === 'list' && x.items!.some((i) => i.k === 'seq')) {
    const steps = x.items!.find((i) => i.k === 'seq')!.steps!
    return { k: 'seq', steps, s: seqCat(x.items!.map((i) => i.s ?? { k: 'c' })) }
  }
  if (x?.k !== 'seq') return undefined
  if (childSteps) {
    const cs = childSteps()
    if (cs.some((st) => st.op === 'gru' || st.op === 'lstm')) throw new SeqUnsupported('a second GRU/LSTM on the first one\'s output')
    return x.s!.k === 'pieces' ? { k: 'tensor', steps: [...seqPlain(x.s!, x.steps!), ...cs] } : { k: 'seq', steps: x.steps, s: seqApply(x.s!, cs) }
  }
  if (fnName === undefined) return undefined
  const s = seqFunction(fnName, x.s!, raw)
  if (s) return { k: 'seq', steps: x.steps, s }
  // torch.size(out, 0) and other shape arithmetic: not a sequence call
  const st = apply()
  return st ? { k: 'seq', steps: x.steps, s: seqApply(x.s!, st) } : undefined
}

/** A sequence value where a plain tensor must be: its readout. */
export const seqTensor = (v: CallVal): ArchStep[] => seqPlain(v.s!, v.steps!)

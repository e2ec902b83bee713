import { ModelError } from '../../errors/base.ts'
import type { RecurrentStep } from '../../ir/recurrentTypes.ts'
import type { ArchStep, Tensor, TensorMap } from '../../ir/types.ts'
import { attrs, num, type ONode, type OTensor } from './proto.ts'
import { readRecurrentOutputs } from './recurrentReadout.ts'
import { onnxTensorData } from './tensorData.ts'

/** ONNX gate blocks → PyTorch's order: GRU z, r, h → r, z, n; LSTM i, o, f, c → i, f, g, o. */
const GATE_ORDER = { GRU: [1, 0, 2], LSTM: [0, 2, 3, 1] } as const

export type OnnxRecurrent = { step: RecurrentStep; steps: ArchStep[]; tensors: TensorMap; consumed: Set<ONode>; output: string }

/**
 * The GRU/LSTM nodes torch.onnx.export writes for nn.GRU/nn.LSTM at the head of the graph: one node per layer
 * (num_layers=2: the second reads the first's Y through Squeeze, or Transpose + Reshape when bidirectional),
 * direction forward or bidirectional, zero initial state, GRU with linear_before_reset=1 as PyTorch computes
 * it. Their weights in PyTorch's layout (`<name>.weight_ih_l0[_reverse]`, …), the nodes they and their plumbing
 * take (the batch_first Transpose, the zero initial states' Shape/Expand), and what the graph does with Y and
 * Y_h until a plain [B, K] tensor goes on (recurrentReadout.ts). Anything else is refused with one line naming the node.
 */
export function onnxRecurrent(nodes: ONode[], input: string, inits: Map<string, OTensor>, file: string): OnnxRecurrent | undefined {
  const recs = nodes.filter((n) => n.op_type === 'GRU' || n.op_type === 'LSTM')
  if (!recs.length) return undefined
  const r = recs[0]!
  const op = r.op_type as 'GRU' | 'LSTM'
  const label = (n: ONode) => `ONNX ${n.op_type} node '${n.name ?? '?'}'`
  const refuse = (n: ONode, why: string, hint = 'export an nn.GRU/nn.LSTM (1-2 layers, either direction) first in the model, its states going to Linear layers; or give the state_dict with model.source'): never => {
    throw new ModelError(`${label(n)}: ${why}: not supported on chain`, { where: file, hint })
  }
  if (recs.length > 2) refuse(recs[2]!, 'a third recurrent node (more than two layers)', 'use num_layers=1 or 2')
  // constants: the graph's initializers and its Constant nodes
  const consts = new Map<string, Tensor>()
  const producer = new Map<string, ONode>()
  for (const n of nodes) for (const o of n.output ?? []) producer.set(o, n)
  const constOf = (name: string): Tensor | undefined => {
    if (consts.has(name)) return consts.get(name)
    const t = inits.get(name) ?? (producer.get(name)?.op_type === 'Constant' ? attrs(producer.get(name)!).get('value')?.t : undefined)
    const d = t ? onnxTensorData(t, file) : undefined
    if (d) consts.set(name, d)
    return d
  }
  const consumed = new Set<ONode>(recs)
  // everything feeding a node's initial state (besides constants) is its plumbing: Shape, Gather, Expand of zeros
  const ancestors = (name: string) => {
    const stack = [name]
    while (stack.length) {
      const p = producer.get(stack.pop()!)
      if (!p || consumed.has(p) || p.op_type === 'Constant') continue
      consumed.add(p)
      stack.push(...(p.input ?? []).filter(Boolean))
    }
  }
  const tensors: TensorMap = new Map()
  const name = (r.name ?? '').split('/').filter(Boolean).slice(0, -1).join('.') || op.toLowerCase()
  let H = 0
  let D = 1
  recs.forEach((n, l) => {
    if (n.op_type !== op) refuse(n, `a ${n.op_type} stacked on a ${op}`)
    const a = attrs(n)
    const dir = a.get('direction')?.s ? new TextDecoder().decode(a.get('direction')!.s) : 'forward'
    if (dir !== 'forward' && dir !== 'bidirectional') refuse(n, `direction '${dir}'`, 'use bidirectional=True or False')
    const d = dir === 'bidirectional' ? 2 : 1
    if (l && d !== D) refuse(n, 'layers with different directions')
    D = d
    if (op === 'GRU' && num(a.get('linear_before_reset')?.i) !== 1) refuse(n, 'linear_before_reset=0 (not what PyTorch computes)')
    if (a.get('activations') || a.get('clip') || num(a.get('layout')?.i) !== 0 || num(a.get('input_forget')?.i)) refuse(n, 'non-default activations, clip, layout or input_forget')
    H = num(a.get('hidden_size')?.i)
    const ins = n.input ?? []
    const [W, R, B] = [constOf(ins[1] ?? ''), constOf(ins[2] ?? ''), ins[3] ? constOf(ins[3]) : undefined]
    if (!W || !R) return refuse(n, 'its weights are not constants')
    if (ins[4]) refuse(n, 'sequence_lens (variable-length or packed sequences)', 'export a fixed window: ml2sc reads model.inputShape [T, F]')
    const G = op === 'GRU' ? 3 : 4
    const F = W.shape[2]!
    if (W.shape[0] !== D || W.shape[1] !== G * H) refuse(n, `W has shape [${W.shape}]`)
    for (const i of [5, 6]) {
      if (!ins[i]) continue
      const p = producer.get(ins[i]!)
      // zeros: Expand of a zero constant, ConstantOfShape (value 0 by default), or a zero constant
      const filled = p?.op_type === 'ConstantOfShape' ? attrs(p).get('value')?.t : undefined
      const zero = p?.op_type === 'Expand' ? constOf(p.input?.[0] ?? '') : p?.op_type === 'ConstantOfShape' ? (filled ? onnxTensorData(filled, file) : { shape: [1], data: new Float64Array(1) }) : constOf(ins[i]!)
      if (!zero || zero.data.some((v) => v !== 0)) refuse(n, `a non-zero initial ${i === 5 ? 'hidden' : 'cell'} state`)
      ancestors(ins[i]!)
    }
    // weights in PyTorch's layout and gate order, per direction
    const reorder = (t: Tensor, cols: number, off: number): Tensor => {
      const data = new Float64Array(G * H * cols)
      GATE_ORDER[op].forEach((src, dst) => data.set(t.data.subarray(off + src * H * cols, off + (src + 1) * H * cols), dst * H * cols))
      return { shape: [G * H, cols], data }
    }
    for (let k = 0; k < D; k++) {
      const sfx = `_l${l}${k ? '_reverse' : ''}`
      tensors.set(`${name}.weight_ih${sfx}`, reorder(W, F, k * G * H * F))
      tensors.set(`${name}.weight_hh${sfx}`, reorder(R, H, k * G * H * H))
      if (B) {
        tensors.set(`${name}.bias_ih${sfx}`, { ...reorder(B, 1, k * 2 * G * H), shape: [G * H] })
        tensors.set(`${name}.bias_hh${sfx}`, { ...reorder(B, 1, k * 2 * G * H + G * H), shape: [G * H] })
      }
    }
  })
  // the first node reads the graph input (or its batch_first Transpose)
  const x0 = r.input?.[0]
  let batchFirst = false
  if (x0 !== input) {
    const xp = producer.get(x0 ?? '')
    const perm = xp?.op_type === 'Transpose' ? (attrs(xp).get('perm')?.ints ?? []).map(num).join() : ''
    if (perm !== '1,0,2' || xp!.input?.[0] !== input) refuse(r, 'its input is not the graph input (or its batch_first Transpose)')
    batchFirst = true
    consumed.add(xp!)
  }
  const step: RecurrentStep = { op: op === 'GRU' ? 'gru' : 'lstm', name, hidden: H, batchFirst }
  const out = readRecurrentOutputs({ nodes, recs, D, consumed, constOf, tensors, refuse: (n, why, hint) => refuse(n, why, hint) })
  const steps: ArchStep[] = [{ ...step, readout: out.specs }, ...out.post]
  return { step, steps, tensors, consumed, output: out.output }
}

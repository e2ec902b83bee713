import { ModelError } from '../../errors/base.ts'
import type { RecurrentStep } from '../../ir/recurrentTypes.ts'
import type { Tensor, TensorMap } from '../../ir/types.ts'
import { attrs, num, type ONode, type OTensor } from './proto.ts'
import { onnxTensorData } from './tensorData.ts'

/** ONNX gate blocks → PyTorch's order: GRU z, r, h → r, z, n; LSTM i, o, f, c → i, f, g, o. */
const GATE_ORDER = { GRU: [1, 0, 2], LSTM: [0, 2, 3, 1] } as const
/** Nodes that may carry the last hidden state from the GRU/LSTM to the first Linear (time axis tracked). */
const SELECT_OPS = new Set(['Squeeze', 'Unsqueeze', 'Transpose', 'Gather', 'Reshape', 'Identity'])

export type OnnxRecurrent = { step: RecurrentStep; tensors: TensorMap; consumed: Set<ONode>; output: string; inputShape?: number[] }

/**
 * The GRU/LSTM node torch.onnx.export writes for nn.GRU/nn.LSTM (one layer, forward, zero initial state,
 * GRU with linear_before_reset=1 as PyTorch computes it) at the head of the graph: its weights in PyTorch's
 * layout (`<name>.weight_ih_l0`, …), the nodes it and its plumbing take (the batch_first Transpose, the
 * zero initial state's Shape/Expand, the selection of the last step after it), and the tensor that holds
 * h_T. The selection must take the last time step: Y_h (its layer's last state), or Y with a Gather of
 * index −1 on its time axis. Anything else is refused with one line naming the node.
 */
export function onnxRecurrent(nodes: ONode[], input: string, inits: Map<string, OTensor>, file: string): OnnxRecurrent | undefined {
  const r = nodes.find((n) => n.op_type === 'GRU' || n.op_type === 'LSTM')
  if (!r) return undefined
  const op = r.op_type as 'GRU' | 'LSTM'
  const label = `ONNX ${op} node '${r.name ?? '?'}'`
  const refuse = (why: string, hint = 'export a one-layer, one-direction nn.GRU/nn.LSTM with its last step going to Linear layers; or give the state_dict with model.source'): never => {
    throw new ModelError(`${label}: ${why}: not supported on chain`, { where: file, hint })
  }
  const a = attrs(r)
  const dir = a.get('direction')?.s
  if (dir && new TextDecoder().decode(dir) !== 'forward') refuse(`direction '${new TextDecoder().decode(dir)}'`, 'use bidirectional=False')
  if (op === 'GRU' && num(a.get('linear_before_reset')?.i) !== 1) refuse('linear_before_reset=0 (not what PyTorch computes)')
  if (a.get('activations') || a.get('clip') || num(a.get('layout')?.i) !== 0 || num(a.get('input_forget')?.i)) refuse('non-default activations, clip, layout or input_forget')
  const H = num(a.get('hidden_size')?.i)
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
  const ins = r.input ?? []
  const [W, R, B] = [constOf(ins[1] ?? ''), constOf(ins[2] ?? ''), ins[3] ? constOf(ins[3]) : undefined]
  if (!W || !R) return refuse('its weights are not constants')
  if (ins[4]) refuse('sequence_lens (variable-length or packed sequences)', 'export a fixed window: ml2sc reads model.inputShape [T, F]')
  const G = op === 'GRU' ? 3 : 4
  const F = W.shape[2]!
  if (W.shape[0] !== 1 || W.shape[1] !== G * H) refuse(`W has shape [${W.shape}]`)
  const consumed = new Set<ONode>([r])
  // everything feeding the node (besides constants) is its plumbing: the batch_first Transpose, the zero h0/c0
  const ancestors = (name: string) => {
    const stack = [name]
    while (stack.length) {
      const p = producer.get(stack.pop()!)
      if (!p || consumed.has(p) || p.op_type === 'Constant') continue
      consumed.add(p)
      stack.push(...(p.input ?? []).filter(Boolean))
    }
  }
  for (const i of [5, 6]) {
    if (!ins[i]) continue
    const p = producer.get(ins[i]!)
    // zeros: Expand of a zero constant, ConstantOfShape (value 0 by default), or a zero constant
    const filled = p?.op_type === 'ConstantOfShape' ? attrs(p).get('value')?.t : undefined
    const zero = p?.op_type === 'Expand' ? constOf(p.input?.[0] ?? '') : p?.op_type === 'ConstantOfShape' ? (filled ? onnxTensorData(filled, file) : { shape: [1], data: new Float64Array(1) }) : constOf(ins[i]!)
    if (!zero || zero.data.some((v) => v !== 0)) refuse(`a non-zero initial ${i === 5 ? 'hidden' : 'cell'} state`)
    ancestors(ins[i]!)
  }
  const xp = producer.get(ins[0]!)
  let batchFirst = false
  if (ins[0] !== input) {
    const perm = xp?.op_type === 'Transpose' ? (attrs(xp).get('perm')?.ints ?? []).map(num).join() : ''
    if (perm !== '1,0,2' || xp!.input?.[0] !== input) refuse('its input is not the graph input (or its batch_first Transpose)')
    batchFirst = true
    ancestors(ins[0]!)
  }
  // the last step: Y_h, or Y through Squeeze/Transpose/Gather(−1 on the time axis)
  const outs = r.output ?? []
  const users = (name: string) => nodes.filter((n) => (n.input ?? []).includes(name))
  const used = outs.map((o, i) => (o && users(o).length ? i : -1)).filter((i) => i >= 0)
  if (used.length !== 1 || used[0] === 2) refuse(used.includes(2) ? 'its cell state Y_c goes on' : 'both its sequence and its last state go on')
  let cur = outs[used[0]!]!
  let timeAxis = used[0] === 0 ? 0 : -1
  let rank = used[0] === 0 ? 4 : 3
  for (;;) {
    const next = users(cur)
    if (next.some((n) => n.op_type === 'GRU' || n.op_type === 'LSTM'))
      refuse('a second recurrent node takes its sequence (num_layers=2 exports one node per layer)', 'read a two-layer GRU/LSTM from its state_dict (or whole .pt) with model.source')
    if (next.length !== 1 || !SELECT_OPS.has(next[0]!.op_type ?? '')) break
    const n = next[0]!
    const na = attrs(n)
    const axesOf = () => (na.get('axes')?.ints ?? []).map(num).concat(n.input?.[1] ? Array.from(constOf(n.input[1])?.data ?? []) : [])
    if (n.op_type === 'Squeeze') {
      const axes = axesOf().map((x) => (x < 0 ? x + rank : x))
      if (axes.includes(timeAxis)) refuse('the time axis is squeezed')
      timeAxis -= axes.filter((x) => x < timeAxis).length
      rank -= axes.length
    } else if (n.op_type === 'Transpose') {
      const perm = (na.get('perm')?.ints ?? []).map(num)
      if (timeAxis >= 0) timeAxis = perm.indexOf(timeAxis)
    } else if (n.op_type === 'Gather') {
      const axis = (num(na.get('axis')?.i) + rank) % rank
      const idx = constOf(n.input?.[1] ?? '')
      if (!idx || idx.data.length !== 1) return refuse(`Gather '${n.name}' with a computed index`)
      if (axis === timeAxis) {
        const k = idx.data[0]!
        if (k !== -1) refuse(`Gather '${n.name}' takes step ${k}, not the last (−1)`, 'take out[:, -1, :] or h[-1]')
        timeAxis = -1
      } else if (timeAxis > axis) timeAxis--
      rank--
    } else if (n.op_type === 'Unsqueeze') {
      rank += axesOf().length
    } else if (n.op_type === 'Reshape' && timeAxis >= 0) refuse(`Reshape '${n.name}' of the whole sequence`)
    consumed.add(n)
    cur = n.output![0]!
  }
  if (timeAxis >= 0) refuse('the whole output sequence goes on', 'take the last time step: out[:, -1, :] or h[-1]')
  // weights in PyTorch's layout and gate order
  const name = (r.name ?? '').split('/').filter(Boolean).slice(0, -1).join('.') || op.toLowerCase()
  const reorder = (t: Tensor, cols: number, off = 0): Tensor => {
    const data = new Float64Array(G * H * cols)
    GATE_ORDER[op].forEach((src, dst) => data.set(t.data.subarray(off + src * H * cols, off + (src + 1) * H * cols), dst * H * cols))
    return { shape: [G * H, cols], data }
  }
  const tensors: TensorMap = new Map([
    [`${name}.weight_ih_l0`, reorder(W, F)],
    [`${name}.weight_hh_l0`, reorder(R, H)],
  ])
  if (B) {
    tensors.set(`${name}.bias_ih_l0`, { ...reorder(B, 1, 0), shape: [G * H] })
    tensors.set(`${name}.bias_hh_l0`, { ...reorder(B, 1, G * H), shape: [G * H] })
  }
  return { step: { op: op === 'GRU' ? 'gru' : 'lstm', name, hidden: H, batchFirst }, tensors, consumed, output: cur }
}

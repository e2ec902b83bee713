import type { ReadoutSpec } from '../../ir/recurrentTypes.ts'
import type { ArchStep, Tensor, TensorMap } from '../../ir/types.ts'
import { seqApply, seqCat, seqFlatten, seqSelect, seqSqueeze, seqTranspose, SeqUnsupported, type SeqVal } from '../sequenceValues.ts'
import { attrs, num, type ONode } from './proto.ts'

/** ONNX's own forms of a GRU/LSTM node's outputs: Y [T, D, B, H] (`y4`, `y4t` once transposed to [T, B, D, H]), Y_h [D, B, H]. */
type OVal = { k: 'y4' | 'y4t' | 'yh'; l: number } | { k: 'mm'; v: SeqVal; w: Tensor; node: ONode } | (SeqVal & { from?: number })

const ACTS: Record<string, ArchStep> = {
  Relu: { op: 'activation', activation: { kind: 'relu' } },
  Sigmoid: { op: 'activation', activation: { kind: 'sigmoid' } },
  Tanh: { op: 'activation', activation: { kind: 'tanh' } },
}

export type ReadoutArgs = {
  nodes: ONode[]
  recs: ONode[]
  D: number
  consumed: Set<ONode>
  constOf: (name: string) => Tensor | undefined
  tensors: TensorMap
  refuse: (n: ONode, why: string, hint?: string) => never
}

/**
 * Follow what the graph does with the GRU/LSTM nodes' Y and Y_h, as sequence values (../sequenceValues.ts):
 * torch's plumbing between stacked nodes (Squeeze of Y; Transpose [0,2,1,3] + Reshape when bidirectional), h_n
 * as the Concat of the nodes' Y_h, Gather (h_n[i], out[:, k]), Concat on the features (torch.cat), Transpose
 * (batch first), Reshape [B, −1] / Flatten (the whole sequence), and a Linear at every step (MatMul + Add, then
 * activations). Ends at the first plain [B, K] tensor another node takes: its name, the readout, the layers
 * already applied to it (a per-step Linear's tensors are added to `tensors`).
 */
export function readRecurrentOutputs(a: ReadoutArgs): { output: string; specs: ReadoutSpec[]; post: ArchStep[] } {
  const { nodes, recs, D, consumed, constOf, refuse } = a
  const vals = new Map<string, OVal>()
  recs.forEach((n, l) => {
    const [y, yh, yc] = n.output ?? []
    if (y) vals.set(y, { k: 'y4', l })
    // one node: its Y_h is h_n; two: h_n is the Concat of theirs
    if (yh) vals.set(yh, recs.length === 1 ? { k: 'h' } : { k: 'yh', l })
    if (yc && nodes.some((m) => (m.input ?? []).includes(yc))) refuse(n, 'its cell state Y_c goes on')
  })
  let boundary: { name: string; v: SeqVal } | undefined
  const intsOf = (n: ONode, attr: string, at: number) => (attrs(n).get(attr)?.ints ?? []).map(num).concat(n.input?.[at] ? Array.from(constOf(n.input[at]!)?.data ?? []) : [])
  for (const n of nodes) {
    if (consumed.has(n)) continue
    const ins = (n.input ?? []).filter((i) => vals.has(i))
    if (!ins.length) continue
    const op = n.op_type ?? ''
    const v = vals.get(ins[0]!)!
    const set = (val: OVal) => {
      consumed.add(n)
      vals.set(n.output![0]!, val)
    }
    const seq = (f: () => SeqVal) => {
      try {
        set(f())
      } catch (e) {
        if (e instanceof SeqUnsupported) refuse(n, `${op}: ${e.message}`)
        throw e
      }
    }
    if (op === 'Shape') {
      consumed.add(n)
      continue
    }
    // the second layer: its input is the first's Y as [T, B, D·H]
    const next = recs.indexOf(n)
    if (next > 0) {
      if (!('from' in v) || v.k !== 'out' || v.bf || v.from !== next - 1 || (n.input ?? [])[0] !== ins[0]) refuse(n, 'its input is not the layer below\'s output sequence')
      continue
    }
    if (v.k === 'y4' || v.k === 'y4t' || v.k === 'yh') {
      if (op === 'Squeeze' && v.k === 'y4' && D === 1 && intsOf(n, 'axes', 1).join() === '1') set({ k: 'out', bf: false, from: v.l })
      else if (op === 'Transpose' && v.k === 'y4' && intsOf(n, 'perm', -1).join() === '0,2,1,3') set({ k: 'y4t', l: v.l })
      else if (op === 'Reshape' && v.k === 'y4t' && intsOf(n, '', 1).length === 3 && intsOf(n, '', 1)[2] === -1) set({ k: 'out', bf: false, from: v.l })
      else if (op === 'Concat' && v.k === 'yh' && num(attrs(n).get('axis')?.i) === 0 && (n.input ?? []).every((i, k) => { const y = vals.get(i); return y?.k === 'yh' && y.l === k }) && n.input!.length === recs.length) set({ k: 'h' })
      else if (op === 'Gather' && v.k === 'yh' && num(attrs(n).get('axis')?.i) === 0 && constOf(n.input?.[1] ?? '')?.data.length === 1) {
        const i = constOf(n.input![1]!)!.data[0]!
        set({ k: 'pieces', specs: [{ hn: v.l * D + (i < 0 ? i + D : i) }], post: [] })
      } else refuse(n, `${op} of the recurrent node's ${v.k === 'yh' ? 'Y_h' : 'Y'}`)
      continue
    }
    if (v.k === 'mm') {
      // MatMul + Add: a Linear at every step
      const bias = op === 'Add' ? constOf((n.input ?? []).find((i) => i !== ins[0]) ?? '') : undefined
      if (!bias || bias.shape.length !== 1 || bias.shape[0] !== v.w.shape[1]) refuse(v.node, 'a MatMul over the sequence without its bias Add')
      const [inp, out] = v.w.shape as [number, number]
      const lname = (v.node.name ?? '').split('/').filter(Boolean).slice(0, -1).join('.') || `step${a.tensors.size}`
      a.tensors.set(`${lname}.weight`, { shape: [out, inp], data: Float64Array.from({ length: out * inp }, (_, k) => v.w.data[(k % inp) * out + Math.floor(k / inp)]!) })
      a.tensors.set(`${lname}.bias`, bias!)
      consumed.add(v.node)
      seq(() => seqApply(v.v, [{ op: 'linear', name: lname }]))
      continue
    }
    onSeq(n, op, v as SeqVal)
  }

  function onSeq(n: ONode, op: string, v: SeqVal): void {
    const seq = (f: () => SeqVal) => {
      try {
        consumed.add(n)
        vals.set(n.output![0]!, f())
      } catch (e) {
        if (e instanceof SeqUnsupported) refuse(n, `${op}: ${e.message}`)
        throw e
      }
    }
    const dataIns = (n.input ?? []).filter((i) => vals.has(i))
    if (op === 'Gather' && constOf(n.input?.[1] ?? '')?.data.length === 1) return seq(() => seqSelect(v, num(attrs(n).get('axis')?.i), constOf(n.input![1]!)!.data[0]!))
    if (op === 'Transpose' && (attrs(n).get('perm')?.ints ?? []).map(num).join() === '1,0,2') return seq(() => seqTranspose(v))
    if (op === 'Squeeze') return seq(() => seqSqueeze(v, [...(attrs(n).get('axes')?.ints ?? []).map(num), ...Array.from(constOf(n.input?.[1] ?? '')?.data ?? [])][0]))
    if (op === 'Flatten' && num(attrs(n).get('axis')?.i ?? 1) === 1) return seq(() => seqFlatten(v))
    if (op === 'Reshape') {
      const s = Array.from(constOf(n.input?.[1] ?? '')?.data ?? [])
      if (s.length === 2 && (s[1] === -1 || s[0] === -1)) return seq(() => seqFlatten(v))
    }
    if (op === 'Concat' && [1, -1].includes(num(attrs(n).get('axis')?.i)) && v.k === 'pieces') return seq(() => seqCat((n.input ?? []).map((i) => (vals.get(i) ?? { k: 'c' }) as SeqVal)))
    if (op === 'Identity') return seq(() => v)
    if (v.k !== 'pieces' && ACTS[op]) return seq(() => seqApply(v, [ACTS[op]!]))
    if (op === 'MatMul' && v.k !== 'pieces' && dataIns.length === 1 && constOf(n.input?.[1] ?? '')?.shape.length === 2) {
      consumed.add(n)
      vals.set(n.output![0]!, { k: 'mm', v, w: constOf(n.input![1]!)!, node: n })
      return
    }
    if (v.k !== 'pieces') refuse(n, `${op} of the recurrent layer's ${v.k === 'out' ? 'output sequence' : v.k === 'steps' ? 'per-step output' : v.k === 'h' ? 'h_n' : 'result'}`, 'take out[:, -1, :], h_n[-1], torch.cat((h_n[-2], h_n[-1]), 1) or the flattened sequence into Linear layers')
    boundary ??= { name: dataIns[0]!, v }
  }

  const b = boundary as { name: string; v: SeqVal } | undefined
  if (!b) refuse(recs[recs.length - 1]!, 'its states never reach a Linear layer')
  const p = b!.v as Extract<SeqVal, { k: 'pieces' }>
  return { output: b!.name, specs: p.specs, post: p.post }
}

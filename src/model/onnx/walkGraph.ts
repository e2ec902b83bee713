import { ModelError } from '../../errors/base.ts'
import type { Activation, ArchStep, Tensor, TensorMap } from '../../ir/types.ts'
import type { LoadedFile } from '../types.ts'
import type { OnnxContext } from './context.ts'
import { CONV_OPS, mapConvOp } from './convOps.ts'
import { mapDenseOp, SUPPORTED_ONNX_OPS } from './denseOps.ts'
import { ACTIVATION_ONNX_OPS, layerOf, mapActivationOp } from './activationOps.ts'
import { graphInputShape } from './inputShape.ts'
import { matchPattern, partialPatternOf, scalarReader } from './patterns.ts'
import { attrs, num, type OGraph, type ONode, type OTensor } from './proto.ts'
import { onnxRecurrent } from './recurrentOps.ts'
import { onnxAttention } from './attentionOps.ts'
import { alongDim, headValues, joinValues } from '../source/joinValues.ts'
import { layerNormPatternStep, mapNormOp, matchLayerNorm, refuseInstanceNorm } from './normOps.ts'
import { onnxTensorData } from './tensorData.ts'
import { mapInputPartOp } from './embeddingOps.ts'
import type { InputPart } from '../source/inputColumns.ts'

/** ONNX ops of layers ml2sc refuses outright, with what they are. */
const REFUSED_LAYERS: Record<string, string> = {
  LSTM: 'recurrent layers', GRU: 'recurrent layers', RNN: 'recurrent layers',
  Attention: 'attention layers', MultiHeadAttention: 'attention layers',
  ConvTranspose: 'transposed convolutions', Einsum: 'einsum contractions',
}

/**
 * Walk an ONNX graph as a chain from its one input to its one output: constant-only nodes (shape
 * arithmetic, transposed weights) are set aside, every data node must take the previous node's output,
 * and each is mapped to architecture steps by denseOps.ts (Gemm, MatMul+Add, activations, BatchNorm,
 * Flatten/Reshape, ...) or convOps.ts (Conv, MaxPool, AveragePool, GlobalAveragePool).
 */
export function walkGraph(graph: OGraph, file: string): LoadedFile {
  const nodes = graph.node ?? []
  const consts = new Map<string, OTensor>()
  for (const t of graph.initializer ?? []) if (t.name) consts.set(t.name, t)
  const decoded = new Map<string, Tensor>()
  const constTensor = (name: string): Tensor => {
    let t = decoded.get(name)
    if (!t) {
      t = onnxTensorData(consts.get(name)!, file)
      decoded.set(name, t)
    }
    return t
  }

  const inputInfos = (graph.input ?? []).filter((v) => v.name && !consts.has(v.name))
  const inputs = inputInfos.map((v) => v.name!)
  if (inputs.length !== 1)
    throw new ModelError(`the ONNX graph has ${inputs.length} data inputs${inputs.length ? ` (${inputs.join(', ')})` : ''}; ml2sc needs exactly one`, {
      where: file,
      hint: 'export a model that takes a single [batch, features] (or [batch, C, H, W]) tensor',
    })
  const outputs = (graph.output ?? []).map((v) => v.name ?? '')
  if (outputs.length === 0) throw new ModelError('the ONNX graph has no outputs', { where: file, hint: 'export a model that returns its output tensor(s)' })

  const tensors: TensorMap = new Map()
  const usedNames = new Set<string>()
  /** Every computed tensor: the steps from the graph input to it (a residual Add or a Concat joins several: joinValues). */
  const stepsOf = new Map<string, ArchStep[]>([[inputs[0]!, []]])
  /** Tensors computed from shapes and constants only (the Shape→Gather→Concat→Reshape of x.view). */
  const side = new Set<string>()
  /** Columns of the input and embedding lookups (embeddingOps.ts). */
  const parts = new Map<string, InputPart>()

  const nodeLabel = (n: ONode) => `${n.op_type ?? '?'} node '${n.name || (n.output ?? [])[0] || '?'}'`
  const unsupportedNode = (n: ONode, why?: string): never => {
    // name the PyTorch layer where the op or the nodes around it show it (an Erf is GELU's, a Clip ReLU6's)
    const op = n.op_type ?? ''
    const layer = partialPatternOf(nodes, nodes.indexOf(n)) ?? (layerOf(op) !== op ? layerOf(op) : undefined)
    const named = layer && !why?.includes(layer.split(' ')[0]!) ? ` (PyTorch ${layer})` : ''
    throw new ModelError(`unsupported ONNX ${nodeLabel(n)}${named}${why ? `: ${why}` : ''}`, {
      where: file,
      hint: `ml2sc converts chains of ${[...SUPPORTED_ONNX_OPS, ...ACTIVATION_ONNX_OPS, 'GELU/SiLU/Mish/Hardswish patterns', ...CONV_OPS].join(', ')}; a GRU/LSTM or self-attention (MultiheadAttention, TransformerEncoderLayer) first, pooled into Linear layers; other branching graphs are not supported`,
    })
  }
  const uniqueName = (base: string): string => {
    let name = base || `layer${usedNames.size}`
    for (let k = 1; usedNames.has(name); k++) name = `${base}_${k}`
    usedNames.add(name)
    return name
  }
  /** `fc1` from `fc1.weight`, else a name from the node (`/net/net.0/Gemm` → `net.0`). */
  const stepName = (n: ONode, weightName: string | undefined): string => {
    if (weightName && /\.weight$/.test(weightName)) return uniqueName(weightName.slice(0, -'.weight'.length))
    const parts = (n.name ?? '').split('/').filter(Boolean)
    if (parts.length > 1 && new RegExp(`^${n.op_type}(_\\d+)?$`).test(parts[parts.length - 1]!)) parts.pop()
    return uniqueName(parts.length ? parts[parts.length - 1]! : (n.output ?? [])[0] ?? '')
  }
  const isConst = (name: string | undefined) => !!name && (consts.has(name) || side.has(name))
  const ctx: OnnxContext = {
    file,
    tensors,
    steps: [],
    consts,
    constTensor,
    stepName,
    unsupportedNode,
    activation: (activation: Activation, n: ONode) => ctx.steps.push({ op: 'activation', activation, name: n.name || undefined }),
  }

  // a GRU/LSTM at the head of the graph (recurrentOps.ts): its plumbing is consumed, its last state goes on
  const rec = onnxRecurrent(nodes, inputs[0]!, consts, file)
  if (rec) {
    for (const [k, t] of rec.tensors) tensors.set(k, t)
    stepsOf.set(rec.output, rec.steps)
  }
  // torch's export of nn.MultiheadAttention (self-attention) and a TransformerEncoderLayer around it (attentionOps.ts)
  const dims = inputInfos[0]!.type?.tensor_type?.shape?.dim?.map((d) => num(d.dim_value))
  const attn = rec ? undefined : onnxAttention(nodes, inputs[0]!, dims, consts, file)
  if (attn) {
    for (const [k, t] of attn.tensors) tensors.set(k, t)
    stepsOf.set(attn.output, attn.steps)
  }
  // a layer ml2sc does not handle is named before anything around it (attention's MatMuls, …)
  const instanceNorm = nodes.find((n) => n.op_type === 'InstanceNormalization')
  if (instanceNorm) refuseInstanceNorm(instanceNorm, file)
  const refused = nodes.find((n) => REFUSED_LAYERS[n.op_type ?? ''] && !rec?.consumed.has(n))
  if (refused) unsupportedNode(refused, `${REFUSED_LAYERS[refused.op_type!]} are not supported`)

  const scalar = scalarReader(nodes, new Map(consts), (t) => onnxTensorData(t, file))
  /** Nodes of a multi-node activation already mapped (patterns.ts). */
  const consumed = new Set<ONode>([...(rec?.consumed ?? []), ...(attn?.consumed ?? [])])
  for (const [idx, n] of nodes.entries()) {
    if (consumed.has(n)) continue
    const op = n.op_type ?? ''
    if (n.domain && n.domain !== 'ai.onnx') unsupportedNode(n, `operator domain '${n.domain}'`)
    const ins = n.input ?? []
    const outs = n.output ?? []
    const a = attrs(n)
    const dataIns = ins.filter((i) => i && !isConst(i))
    // GELU, SiLU, Mish, Hardswish written as several nodes
    const cur = ins.find((i) => stepsOf.has(i))
    const pattern = op !== 'Constant' && !ctx.pendingMatMul && !ctx.pendingPad && cur ? matchPattern(nodes, idx, cur, scalar) : undefined
    // LayerNorm below opset 17: ReduceMean → Sub → Pow → ReduceMean → Add ε → Sqrt → Div [→ Mul γ → Add β]
    const ln = op === 'ReduceMean' && cur && !ctx.pendingMatMul ? matchLayerNorm(nodes, idx, cur, scalar, (k) => consts.has(k)) : undefined
    if (ln) {
      for (const m of ln.nodes) consumed.add(m)
      stepsOf.set(ln.out, [...stepsOf.get(cur!)!, layerNormPatternStep(ctx, ln)])
      continue
    }
    if (pattern) {
      for (const m of pattern.nodes) consumed.add(m)
      stepsOf.set(pattern.out, [...stepsOf.get(cur!)!, { op: 'activation', activation: pattern.activation, name: pattern.label }])
      continue
    }

    if (op === 'Constant') {
      const t = a.get('value')?.t
      if (t && outs[0]) consts.set(outs[0], { ...t, name: outs[0] })
      else if (outs[0]) side.add(outs[0])
      continue
    }
    // A node computed from constants only (shape arithmetic, a transposed weight, ...)
    if (dataIns.length === 0) {
      if (op === 'Transpose' && consts.has(ins[0]!) && outs[0]) {
        const t = constTensor(ins[0]!)
        if (t.shape.length !== 2) unsupportedNode(n, 'only 2-D constants can be transposed')
        const [r, c] = t.shape as [number, number]
        const d = new Float64Array(r * c)
        for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) d[j * r + i] = t.data[i * c + j]!
        decoded.set(outs[0], { shape: [c, r], data: d })
        consts.set(outs[0], { name: consts.get(ins[0]!)?.name ?? outs[0] })
        continue
      }
      if (/^(Shape|Gather|Unsqueeze|Squeeze|Concat|Slice|Cast|Mul|Div|Add|Sub|Reshape|ConstantOfShape|Identity)$/.test(op)) {
        for (const o of outs) side.add(o)
        continue
      }
      unsupportedNode(n)
    }
    // nn.Embedding on input columns: Gather/Cast/Gather/Slice/Concat (embeddingOps.ts)
    if (mapInputPartOp(n, op, a, { input: inputs[0]!, parts, stepsOf, tensors, isConst, hasInitializer: (k) => consts.has(k) && !side.has(k), constTensor, unsupportedNode })) continue
    // a residual Add of two computed tensors, a Concat of computed tensors along the features
    const axis = a.get('axis')?.i === undefined ? undefined : Number(a.get('axis')!.i)
    const joins = (op === 'Add' && dataIns.length === 2) || (op === 'Concat' && dataIns.length === ins.length && (axis === 1 || axis === -1))
    if (joins && dataIns.length > 1 && dataIns.every((i) => stepsOf.has(i)) && !ctx.pendingPad && outs[0]) {
      ctx.pendingMatMul = undefined // a bias-free MatMul before a residual Add
      stepsOf.set(outs[0], alongDim(joinValues(op === 'Add' ? 'add' : 'concat', dataIns.map((i) => stepsOf.get(i)!), n.name || op), axis))
      continue
    }
    if (op === 'Concat' && dataIns.length > 1) unsupportedNode(n, `a concatenation along axis ${axis}: ml2sc concatenates along the channels / features (axis 1)`)
    if (dataIns.length > 1) unsupportedNode(n, `it combines ${dataIns.length} computed tensors (${dataIns.join(', ')}); only a chain of layers is supported`)
    const x = dataIns[0]!
    if (op === 'Shape') {
      if (!stepsOf.has(x)) unsupportedNode(n, 'the graph branches')
      for (const o of outs) side.add(o)
      continue
    }
    if (!stepsOf.has(x)) unsupportedNode(n, `its input '${x}' is not computed from the graph input`)
    if (ctx.pendingMatMul && op !== 'Add') unsupportedNode(n, `MatMul '${ctx.pendingMatMul.name}' must be followed by Add (a bias) or be the last node`)
    const out = outs[0]
    if (!out) unsupportedNode(n, 'it has no output')
    if (outs.slice(1).some(Boolean)) {
      // MaxPool's optional Indices output: fine only if nothing reads it
      const extra = outs.slice(1).filter(Boolean)
      if (nodes.some((m) => (m.input ?? []).some((i) => extra.includes(i)))) unsupportedNode(n, 'a second output is used')
    }
    if (ctx.pendingPad && op !== 'Conv' && op !== 'AveragePool') unsupportedNode(n, `Pad '${ctx.pendingPad.node}' must be followed by Conv or AveragePool`)
    const node = { n, op, ins, x, a }
    ctx.steps = [...stepsOf.get(x)!]
    // (x - mean) / std exported from registered buffers: x − c, x / c, x · c with a constant c, folded into a Linear
    // (not where the nodes are part of an activation's pattern: that refusal names the activation)
    if (/^(Sub|Div|Mul)$/.test(op) && ins[0] === x && isConst(ins[1]) && consts.has(ins[1]!) && !ctx.pendingMatMul && !partialPatternOf(nodes, idx)) {
      const name = ctx.stepName(n, undefined)
      tensors.set(name, constTensor(ins[1]!))
      ctx.steps.push({ op: 'affine', name, how: op === 'Sub' ? 'sub' : op === 'Div' ? 'div' : 'mul' })
      stepsOf.set(out!, ctx.steps)
      continue
    }
    if (op === 'Pad' || CONV_OPS.includes(op)) mapConvOp(ctx, node)
    else if (!mapActivationOp(ctx, node) && !mapNormOp(ctx, node)) mapDenseOp(ctx, node, out!)
    stepsOf.set(out!, ctx.steps)
  }
  const missing = outputs.find((o) => !stepsOf.has(o))
  if (missing !== undefined || ctx.pendingPad)
    throw new ModelError(`the ONNX graph output '${missing ?? outputs[0]}' is not computed from its input by the layers ml2sc reads`, {
      where: file,
      hint: 'ml2sc converts models whose nodes form a chain (with residual Adds and Concats) from input to output',
    })
  // several graph outputs (torch.onnx.export(..., output_names=[...])): one head each, named as exported
  const steps = outputs.length === 1 ? stepsOf.get(outputs[0]!)! : headValues(outputs, outputs.map((o) => stepsOf.get(o)!))
  // a sequence model's window [T, F]: [N, T, F] batch_first, else [T, N, F]
  const seq = rec ? rec.step.batchFirst : attn?.batchFirst
  const window = seq !== undefined && dims?.length === 3 ? [seq ? dims[1]! : dims[0]!, dims[2]!] : undefined
  const inputShape = seq !== undefined ? (window?.every((d) => d > 0) ? window : undefined) : graphInputShape(inputInfos[0]!)
  return { format: 'onnx', tensors, steps, ...(inputShape ? { inputShape } : {}) }
}

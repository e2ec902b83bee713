import { cellsOf } from '../ir/recurrentTypes.ts'
import { existsSync, statSync } from 'node:fs'
import path from 'node:path'
import { blobLayout } from '../codegen/weights/weightBlob.ts'
import { loadConfig } from '../config/loadConfig.ts'
import { describeActivation } from '../ir/buildModel.ts'
import { describeInput } from '../ir/layerInput.ts'
import { parameterCount, shapeOf, taskOf } from '../ir/taskOf.ts'
import { macsOf, shapeText, sizeOf } from '../ir/tensorShapes.ts'
import type { ModelIR, Task } from '../ir/types.ts'
import { isJoin, type TensorLayer } from '../ir/tensorTypes.ts'
import { weightWidthText, type Plan } from '../fixed/types.ts'
import { inputScaleText, safeInputRange } from '../fixed/encodeRows.ts'
import { prepareModel } from '../pipeline/prepareModel.ts'
import { guessArchitecture } from '../scaffold/guessArchitecture.ts'
import { ConfigError } from '../errors/base.ts'
import type { Ml2scCommand } from './context.ts'

export type InspectSummary = {
  file: string
  format: string
  /** Where the architecture came from. */
  architecture: 'file' | 'model.source' | 'model.layers' | 'guessed: source' | 'guessed: layers'
  guess?: { layers?: string[]; source?: string; class?: string; inputShape?: number[] }
  task: Task
  inputSize: number
  outputSize: number
  shape: number[]
  parameters: number
  /** A multi-output model: its outputs (heads), in the order predict returns them. */
  heads?: { name: string; size: number }[]
  /** Convolutional models: the input tensor's shape [C, H, W] or [C, L]. */
  inputShape?: number[]
  /** nn.Embedding columns: category indices, read one-hot by the first Linear. */
  categorical?: { column: number; count: number; name: string }[]
  /**
   * Every layer: conv/pool layers first (kind, outShape), then the dense layers. `in`/`out` are flattened
   * sizes; `macs` counts multiply-accumulates per row (0 for pooling).
   */
  /** `reads`: a graph model's layer that reads an earlier value, a residual sum or a concat (`'fc1' + 'fc2'`). */
  layers: { index: number; name: string; kind: string; in: number; out: number; outShape: number[]; activation: string; parameters: number; macs: number; reads?: string; /** a module applied again: the layer (#) whose weights it uses */ shares?: number }[]
  /** Multiply-accumulates per row, all layers. */
  macs: number
  /** With a config: the fixed-point plan. */
  plan?: {
    contract: string
    fraction: number
    weightBits: number
    /** `int16`, or each weighted layer's width (`int8/int16/int8`) when they differ. */
    weights: string
    inputBits: number
    inputScale: string
    safeInputRange: [number, number]
    weightBytes: number
    /** One per layer of `layers` (pooling layers have no weights: name only). */
    layers: { name: string; weightScaleBits?: number; lanes?: number; laneBits?: number }[]
  }
}

/** A config: `*.yaml`/`*.yml` (also `ml2sc.yaml.example`-style names) or a folder holding ml2sc.yaml. */
const isConfig = (p: string) => /\.ya?ml(\.[a-z]+)?$/i.test(p) || (existsSync(p) && statSync(p).isDirectory())

/** The IR summary of a model file (architecture guessed if the file has none) or of a config's model. */
export async function inspectTarget(target: string, opts: { inputShape?: number[] } = {}): Promise<InspectSummary> {
  if (isConfig(target)) {
    const config = await loadConfig(target, { outputUnused: true })
    const prep = await prepareModel(config)
    const how = config.model.source ? 'model.source' : config.model.layers ? 'model.layers' : 'file'
    return { ...summarize(prep.model, path.relative(process.cwd(), config.model.path), how, prep.task), plan: planSummary(prep.plan, prep.contractName) }
  }
  const g = await guessArchitecture(target, { inputShape: opts.inputShape })
  const how = g.how === 'file' ? 'file' : g.how === 'source' ? 'guessed: source' : 'guessed: layers'
  const s = summarize(g.ir, target, how, taskOf(g.ir))
  if (g.inputShape) s.guess = { inputShape: g.inputShape }
  if (g.how !== 'file') s.guess = { ...s.guess, ...(g.layers ? { layers: g.layers } : {}), ...(g.source ? { source: path.relative(process.cwd(), g.source), class: g.class } : {}) }
  return s
}

function summarize(ir: ModelIR, file: string, architecture: InspectSummary['architecture'], task: Task): InspectSummary {
  const layers = layerRows(ir)
  return {
    file,
    format: ir.format,
    architecture,
    task,
    inputSize: ir.inputSize,
    outputSize: ir.layers[ir.layers.length - 1]!.weight.length,
    shape: shapeOf(ir),
    parameters: parameterCount(ir),
    ...(ir.heads ? { heads: ir.heads } : {}),
    ...(ir.inputShape && (ir.tensorLayers?.length || ir.recurrent) ? { inputShape: ir.inputShape } : {}),
    ...(ir.categorical?.length ? { categorical: ir.categorical } : {}),
    layers,
    macs: layers.reduce((n, l) => n + l.macs, 0),
  }
}

/** What a graph's tensor layer reads when not the previous layer: ` (stem + block.conv2)`, ` (of stem)`; else ''. */
function readsText(ir: ModelIR, l: TensorLayer, i: number): string {
  const name = (v: number) => (v === 0 ? 'input' : ir.tensorLayers![v - 1]!.name)
  if (isJoin(l)) return ` (${l.values.map(name).join(l.kind === 'add' ? ' + ' : ', ')})`
  return l.from !== undefined && l.from !== i ? ` (of ${name(l.from)})` : ''
}

function layerRows(ir: ModelIR): InspectSummary['layers'] {
  const tensor = (ir.tensorLayers ?? []).map((l, i) => ({
    index: i + 1,
    name: l.name,
    kind: (l.kind === 'conv' ? `conv${l.inShape.length - 1}d${l.groups > 1 ? (l.groups === l.inShape[0] ? ' depthwise' : ` groups=${l.groups}`) : ''}` : l.kind === 'avgpool' && l.global ? 'global avgpool' : l.kind) + readsText(ir, l, i),
    in: sizeOf(l.inShape),
    out: sizeOf(l.outShape),
    outShape: l.outShape,
    activation: describeActivation(l.activation),
    parameters: l.kind === 'conv' ? l.weight.length + l.bias.length : 0,
    macs: macsOf(l),
  }))
  // a sequence model's GRU/LSTM (each stacked layer a row): MACs over the whole window
  const rec = (ir.recurrent ? cellsOf(ir.recurrent) : []).map((c, i) => ({
    index: tensor.length + i + 1,
    name: c.name,
    kind: `${c.kind} ×${c.steps} steps`,
    in: c.steps * c.features,
    out: c.hidden,
    outShape: [c.hidden],
    activation: 'σ, tanh (gates)',
    parameters: c.weightIh.length * (c.features + c.hidden + 2),
    macs: c.steps * c.weightIh.length * (c.features + c.hidden),
  }))
  tensor.push(...rec)
  // self-attention over the window: its projections, scores, softmax and weighted sums (MACs per query)
  const a = ir.attention
  if (a) {
    const nq = a.pool === 'last' ? 1 : a.tokens
    const outs = a.pool === 'flatten' ? a.tokens * a.embed : a.embed
    tensor.push({ index: tensor.length + 1, name: a.name, kind: `attention ×${a.tokens} tokens, ${a.heads} head(s), ${a.pool}`, in: a.tokens * a.embed, out: outs, outShape: [outs], activation: 'softmax (scores)', parameters: 4 * a.embed * (a.embed + 1), macs: a.tokens * 2 * a.embed * a.embed + nq * a.embed * a.embed + 2 * nq * a.tokens * a.embed + (a.pool === 'flatten' ? a.tokens : 1) * a.embed * a.embed })
  }
  const dense = ir.layers.map((l, i) => ({
    index: tensor.length + i + 1,
    name: l.name,
    kind: 'linear',
    in: l.weight[0]!.length,
    out: l.weight.length,
    outShape: [l.weight.length],
    activation: describeActivation(l.activation),
    // a module applied again (a loop over one nn.Linear): its parameters are its first use's
    parameters: l.shares === undefined ? l.weight.length * (l.weight[0]!.length + 1) : 0,
    macs: l.weight.length * l.weight[0]!.length,
    ...(l.shares === undefined ? {} : { shares: tensor.length + l.shares + 1 }),
    ...(l.input ? { reads: describeInput(l.input, (v) => (v > 0 ? `'${ir.layers[v - 1]!.name}'` : tensor.length ? `the output of '${tensor[tensor.length - 1]!.name}'` : 'the input')) } : {}),
  }))
  return [...tensor, ...dense]
}

function planSummary(plan: Plan, contract: string): NonNullable<InspectSummary['plan']> {
  return {
    contract,
    fraction: plan.F,
    weightBits: 8 * plan.weightBytes,
    weights: weightWidthText(plan),
    inputBits: 8 * plan.inputBytes,
    inputScale: inputScaleText(plan),
    safeInputRange: safeInputRange(plan),
    weightBytes: blobLayout(plan).length,
    layers: [
      ...(plan.tensorLayers ?? []).map((l) => (l.kind === 'conv' ? { name: l.name, weightScaleBits: l.wShift, lanes: l.lanes, laneBits: l.laneBits } : { name: l.name })),
      // one row per GRU/LSTM layer: the lanes of its widest gate block (rz / ifgo)
      ...(plan.recurrent ? cellsOf(plan.recurrent) : []).map((c) => ({ name: c.name, weightScaleBits: c.wShift, lanes: c.blocks[0]!.lanes, laneBits: c.blocks[0]!.laneBits })),
      ...(plan.attention ? [{ name: plan.attention.name, weightScaleBits: plan.attention.blocks[1].wShift, lanes: plan.attention.blocks[1].lanes, laneBits: plan.attention.blocks[1].laneBits }] : []),
      ...plan.layers.map((l) => ({ name: l.name, weightScaleBits: l.wShift, lanes: l.lanes, laneBits: l.laneBits })),
    ],
  }
}

/** The summary as a table. */
export function renderInspect(s: InspectSummary): string {
  const how = {
    file: 'from the file',
    'model.source': 'from model.source',
    'model.layers': 'from model.layers',
    'guessed: source': `guessed: ${s.guess?.source} class ${s.guess?.class} fits the tensors`,
    'guessed: layers': `guessed from the tensor shapes: [${s.guess?.layers?.join(', ')}] (set model.layers to be sure)`,
  }[s.architecture]
  const lines = [
    `model        ${s.file}`,
    `format       ${s.format}`,
    `architecture ${how}`,
    `task         ${s.task}: ${s.inputSize} input${s.inputSize === 1 ? '' : 's'} → ${s.outputSize} output${s.outputSize === 1 ? '' : 's'}, ${s.parameters.toLocaleString('en-US')} parameters`,
  ]
  if (s.heads) lines.push(`outputs      ${s.heads.map((h) => `${h.name} (${h.size})`).join(', then ')}: one head each, side by side in predict's outputs (the 'heads' layer)`)
  if (s.plan)
    lines.push(
      `fixed point  activations at 2^${s.plan.fraction}, weights ${s.plan.weights} (${s.plan.weightBytes.toLocaleString('en-US')} bytes), inputs int${s.plan.inputBits}; safe inputs [${s.plan.safeInputRange.join(', ')}]`,
    )
  if (s.inputShape)
    lines.push(
      `input        ${shapeText(s.inputShape)} tensor${s.guess?.inputShape ? ' (GUESSED from the layer sizes; set model.inputShape)' : ''}, CSV columns in C order; ${s.macs.toLocaleString('en-US')} multiply-accumulates per row`,
    )
  if (s.categorical)
    lines.push(`categorical  ${s.categorical.map((c) => `column ${c.column} (nn.Embedding '${c.name}', ${c.count} categories)`).join(', ')}: a whole index per row, its table folded into the first Linear (one weight column per category, gathered on chain)`)
  lines.push('')
  const lanes = (i: number) => {
    const p = s.plan?.layers[i]
    return p?.lanes === undefined ? '' : `${p.lanes} × ${p.laneBits} bit`
  }
  // an MLP: in → out per layer; a convolutional model: each layer's output shape and MACs
  const conv = s.inputShape !== undefined
  const head = conv ? ['#', 'layer', 'kind', 'output', 'activation', 'parameters', 'MACs'] : ['#', 'layer', 'in', 'out', 'activation', 'parameters']
  if (s.plan) head.push('lanes')
  const rows = s.layers.map((l, i) => [
    String(l.index),
    l.name,
    ...(conv ? [l.kind, shapeText(l.outShape)] : [String(l.in), String(l.out)]),
    l.activation,
    l.parameters.toLocaleString('en-US'),
    ...(conv ? [l.macs.toLocaleString('en-US')] : []),
    ...(s.plan ? [lanes(i)] : []),
  ])
  const right = new Set(conv ? [0, 5, 6] : [0, 2, 3, 5])
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)))
  const fmt = (r: string[]) => '  ' + r.map((x, c) => (right.has(c) ? x.padStart(widths[c]!) : x.padEnd(widths[c]!))).join('  ').trimEnd()
  lines.push(fmt(head), ...rows.map(fmt))
  const total = [' ', 'total', '', '', '', s.parameters.toLocaleString('en-US'), ...(conv ? [s.macs.toLocaleString('en-US')] : []), ...(s.plan ? [''] : [])]
  lines.push(fmt(total))
  // a graph model: what each layer reads when it is not the layer above
  for (const l of s.layers) if (l.reads) lines.push(`  layer ${l.index} '${l.name}' reads ${l.reads}`)
  for (const l of s.layers) if (l.shares) lines.push(`  layer ${l.index} '${l.name}' applies layer ${l.shares}'s module again: its weights, stored once`)
  return lines.join('\n') + '\n'
}

export const inspectModule: Ml2scCommand = {
  builder: (y) =>
    y
      .positional('target', { type: 'string', demandOption: true, describe: 'a model file, or an ml2sc.yaml' })
      .option('input-shape', { type: 'string', describe: 'a convolutional model file without its input shape: C,H,W or C,L (a config sets model.inputShape)' })
      .example('$0 inspect model.onnx', 'the layers of an ONNX export')
      .example('$0 inspect weights.safetensors', 'a weights-only file: the architecture is guessed from the tensor shapes')
      .example('$0 inspect ml2sc.yaml --json', "the config's model and fixed-point plan as JSON")
      .example('$0 inspect cnn.pt --input-shape 1,28,28', "a CNN's layers: output shapes and multiply-accumulates"),
  handler: async (a) => {
    const s = await inspectTarget(a.target, { inputShape: parseInputShape(a['input-shape']) })
    if (!a.json) process.stdout.write(renderInspect(s))
    return s
  },
}

/** `--input-shape 1,28,28` → [1, 28, 28]. */
function parseInputShape(v: string | undefined): number[] | undefined {
  if (v === undefined) return undefined
  const dims = v.split(/[,x×\s]+/).filter(Boolean).map(Number)
  if (dims.length < 2 || dims.length > 3 || dims.some((d) => !Number.isInteger(d) || d < 1))
    throw new ConfigError(`--input-shape ${v}: expected C,H,W or C,L (positive integers)`)
  return dims
}

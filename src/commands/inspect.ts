import { existsSync, statSync } from 'node:fs'
import path from 'node:path'
import { blobLayout } from '../codegen/weightBlob.ts'
import { loadConfig } from '../config/loadConfig.ts'
import { describeActivation } from '../ir/buildModel.ts'
import { parameterCount, shapeOf, taskOf } from '../ir/taskOf.ts'
import type { ModelIR, Task } from '../ir/types.ts'
import type { Plan } from '../fixed/types.ts'
import { inputScaleText, safeInputRange } from '../fixed/encodeRows.ts'
import { prepareModel } from '../pipeline/prepareModel.ts'
import { guessArchitecture } from '../scaffold/guessArchitecture.ts'
import type { Ml2scCommand } from './context.ts'

export type InspectSummary = {
  file: string
  format: string
  /** Where the architecture came from. */
  architecture: 'file' | 'model.source' | 'model.layers' | 'guessed: source' | 'guessed: layers'
  guess?: { layers?: string[]; source?: string; class?: string }
  task: Task
  inputSize: number
  outputSize: number
  shape: number[]
  parameters: number
  layers: { index: number; name: string; in: number; out: number; activation: string; parameters: number }[]
  /** With a config: the fixed-point plan. */
  plan?: {
    contract: string
    fraction: number
    weightBits: number
    inputBits: number
    inputScale: string
    safeInputRange: [number, number]
    weightBytes: number
    layers: { name: string; weightScaleBits: number; lanes: number; laneBits: number }[]
  }
}

/** A config: `*.yaml`/`*.yml` (also `ml2sc.yaml.example`-style names) or a folder holding ml2sc.yaml. */
const isConfig = (p: string) => /\.ya?ml(\.[a-z]+)?$/i.test(p) || (existsSync(p) && statSync(p).isDirectory())

/** The IR summary of a model file (architecture guessed if the file has none) or of a config's model. */
export async function inspectTarget(target: string): Promise<InspectSummary> {
  if (isConfig(target)) {
    const config = await loadConfig(target)
    const prep = await prepareModel(config)
    const how = config.model.source ? 'model.source' : config.model.layers ? 'model.layers' : 'file'
    return { ...summarize(prep.model, path.relative(process.cwd(), config.model.path), how, prep.task), plan: planSummary(prep.plan, prep.contractName) }
  }
  const g = await guessArchitecture(target)
  const how = g.how === 'file' ? 'file' : g.how === 'source' ? 'guessed: source' : 'guessed: layers'
  const s = summarize(g.ir, target, how, taskOf(g.ir))
  if (g.how !== 'file') s.guess = { ...(g.layers ? { layers: g.layers } : {}), ...(g.source ? { source: path.relative(process.cwd(), g.source), class: g.class } : {}) }
  return s
}

function summarize(ir: ModelIR, file: string, architecture: InspectSummary['architecture'], task: Task): InspectSummary {
  return {
    file,
    format: ir.format,
    architecture,
    task,
    inputSize: ir.inputSize,
    outputSize: ir.layers[ir.layers.length - 1]!.weight.length,
    shape: shapeOf(ir),
    parameters: parameterCount(ir),
    layers: ir.layers.map((l, i) => ({
      index: i + 1,
      name: l.name,
      in: l.weight[0]!.length,
      out: l.weight.length,
      activation: describeActivation(l.activation),
      parameters: l.weight.length * (l.weight[0]!.length + 1),
    })),
  }
}

function planSummary(plan: Plan, contract: string): NonNullable<InspectSummary['plan']> {
  const scale = 2 ** plan.F
  return {
    contract,
    fraction: plan.F,
    weightBits: 8 * plan.weightBytes,
    inputBits: 8 * plan.inputBytes,
    inputScale: inputScaleText(plan),
    safeInputRange: safeInputRange(plan),
    weightBytes: blobLayout(plan).length,
    layers: plan.layers.map((l) => ({ name: l.name, weightScaleBits: l.wShift, lanes: l.lanes, laneBits: l.laneBits })),
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
  if (s.plan)
    lines.push(
      `fixed point  activations at 2^${s.plan.fraction}, weights int${s.plan.weightBits} (${s.plan.weightBytes.toLocaleString('en-US')} bytes), inputs int${s.plan.inputBits}; safe inputs [${s.plan.safeInputRange.join(', ')}]`,
    )
  lines.push('')
  const head = ['#', 'layer', 'in', 'out', 'activation', 'parameters', ...(s.plan ? ['lanes'] : [])]
  const rows = s.layers.map((l, i) => [
    String(l.index),
    l.name,
    String(l.in),
    String(l.out),
    l.activation,
    l.parameters.toLocaleString('en-US'),
    ...(s.plan ? [`${s.plan.layers[i]!.lanes} × ${s.plan.layers[i]!.laneBits} bit`] : []),
  ])
  const right = new Set([0, 2, 3, 5])
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)))
  const fmt = (r: string[]) => '  ' + r.map((x, c) => (right.has(c) ? x.padStart(widths[c]!) : x.padEnd(widths[c]!))).join('  ').trimEnd()
  lines.push(fmt(head), ...rows.map(fmt))
  const total = [' ', 'total', '', '', '', s.parameters.toLocaleString('en-US'), ...(s.plan ? [''] : [])]
  lines.push(fmt(total))
  return lines.join('\n') + '\n'
}

export const inspectModule: Ml2scCommand = {
  command: 'inspect <target>',
  describe: 'Show a model as ml2sc reads it: format, layers, shapes, activations, parameters (a config adds the fixed-point plan)',
  builder: (y) =>
    y
      .positional('target', { type: 'string', demandOption: true, describe: 'a model file, or an ml2sc.yaml' })
      .example('$0 inspect model.onnx', 'the layers of an ONNX export')
      .example('$0 inspect weights.safetensors', 'a weights-only file: the architecture is guessed from the tensor shapes')
      .example('$0 inspect ml2sc.yaml --json', "the config's model and fixed-point plan as JSON"),
  handler: async (a) => {
    const s = await inspectTarget(a.target)
    if (!a.json) process.stdout.write(renderInspect(s))
    return s
  },
}

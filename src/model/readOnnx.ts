import { readFile } from 'node:fs/promises'
import protobuf from 'protobufjs'
import { ModelError } from '../errors/base.ts'
import type { Activation, ArchStep, Tensor, TensorMap } from '../ir/types.ts'
import type { LoadedFile } from './types.ts'

/** The subset of onnx.proto (github.com/onnx/onnx, onnx/onnx.proto) ml2sc reads; field numbers as upstream. */
const ONNX_PROTO = `
syntax = "proto2";
package onnx;
message AttributeProto {
  optional string name = 1;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  optional GraphProto g = 6;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  repeated TensorProto tensors = 10;
  repeated GraphProto graphs = 11;
  optional string doc_string = 13;
  optional int32 type = 20;
  optional string ref_attr_name = 21;
}
message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
}
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
  optional string domain = 7;
}
message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
message ModelProto {
  optional int64 ir_version = 1;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
}
message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}
message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}
message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional bytes raw_data = 9;
  repeated double double_data = 10 [packed = true];
  repeated uint64 uint64_data = 11 [packed = true];
  optional string doc_string = 12;
  repeated StringStringEntryProto external_data = 13;
  optional int32 data_location = 14;
}
message TensorShapeProto {
  message Dimension {
    optional int64 dim_value = 1;
    optional string dim_param = 2;
    optional string denotation = 3;
  }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  optional Tensor tensor_type = 1;
  optional string denotation = 6;
}
`

let root: protobuf.Root | undefined
/** The protobufjs root for the ONNX subset (tests use it to build small models). */
export function onnxRoot(): protobuf.Root {
  root ??= protobuf.parse(ONNX_PROTO, { keepCase: true }).root
  return root
}

// Decoded message shapes (keepCase field names).
type Long = number | { toNumber(): number }
type OTensor = {
  name?: string
  dims?: Long[]
  data_type?: number
  float_data?: number[]
  int32_data?: number[]
  int64_data?: Long[]
  double_data?: number[]
  uint64_data?: Long[]
  raw_data?: Uint8Array
  data_location?: number
}
type OAttr = { name?: string; type?: number; f?: number; i?: Long; s?: Uint8Array; t?: OTensor; floats?: number[]; ints?: Long[] }
type ONode = { name?: string; op_type?: string; domain?: string; input?: string[]; output?: string[]; attribute?: OAttr[] }
type OValueInfo = { name?: string }
type OGraph = { node?: ONode[]; initializer?: OTensor[]; input?: OValueInfo[]; output?: OValueInfo[] }
type OModel = { graph?: OGraph; ir_version?: Long; producer_name?: string }

const num = (v: Long | undefined): number => (v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber())

const DTYPES: Record<number, string> = { 1: 'float', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'double', 16: 'bfloat16' }

export const SUPPORTED_ONNX_OPS = [
  'Gemm',
  'MatMul+Add',
  'Relu',
  'LeakyRelu',
  'Sigmoid',
  'Tanh',
  'Softmax',
  'Identity',
  'Flatten',
  'Dropout',
  'BatchNormalization',
  'Reshape (as a flatten)',
  'Cast',
]

/** Decode an ONNX tensor to float64 (float, double, float16, bfloat16, and integer types for shapes). */
export function onnxTensorData(t: OTensor, file: string): Tensor {
  const shape = (t.dims ?? []).map(num)
  const count = shape.reduce((a, b) => a * b, 1)
  const dt = t.data_type ?? 0
  const name = t.name ?? '(unnamed)'
  if (t.data_location === 1)
    throw new ModelError(`tensor '${name}' is stored in an external data file`, { where: file, hint: 'export with the weights inside the .onnx file (small MLPs need no external data)' })
  const raw = t.raw_data && t.raw_data.length ? t.raw_data : undefined
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined
  const data = new Float64Array(count)
  const need = (bytes: number) => {
    if (raw && raw.length !== count * bytes)
      throw new ModelError(`tensor '${name}' has ${raw.length} bytes of data, expected ${count * bytes} for shape [${shape}]`, { where: file, hint: 'the file is corrupt' })
  }
  const fromList = (list: ArrayLike<Long> | undefined) => {
    if (!list || list.length !== count)
      throw new ModelError(`tensor '${name}' has ${list?.length ?? 0} values, expected ${count} for shape [${shape}]`, { where: file, hint: 'the file is corrupt' })
    for (let i = 0; i < count; i++) data[i] = num(list[i])
  }
  switch (dt) {
    case 1: // float
      if (view) {
        need(4)
        for (let i = 0; i < count; i++) data[i] = view.getFloat32(i * 4, true)
      } else fromList(t.float_data)
      break
    case 11: // double
      if (view) {
        need(8)
        for (let i = 0; i < count; i++) data[i] = view.getFloat64(i * 8, true)
      } else fromList(t.double_data)
      break
    case 10: // float16: raw, or int32_data holding the bit patterns
    case 16: {
      const conv = dt === 10 ? halfToFloat : (bits: number) => bf16ToFloat(bits)
      if (view) {
        need(2)
        for (let i = 0; i < count; i++) data[i] = conv(view.getUint16(i * 2, true))
      } else {
        fromList(t.int32_data)
        for (let i = 0; i < count; i++) data[i] = conv(data[i]! & 0xffff)
      }
      break
    }
    case 7: // int64
      if (view) {
        need(8)
        for (let i = 0; i < count; i++) data[i] = Number(view.getBigInt64(i * 8, true))
      } else fromList(t.int64_data)
      break
    case 6: // int32
      if (view) {
        need(4)
        for (let i = 0; i < count; i++) data[i] = view.getInt32(i * 4, true)
      } else fromList(t.int32_data)
      break
    default:
      throw new ModelError(`tensor '${name}' has element type ${DTYPES[dt] ?? dt}, which ml2sc does not read`, {
        where: file,
        hint: 'weights must be float32, float64 or float16 (quantized ONNX models are not supported)',
      })
  }
  return { shape, data }
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1
  const e = (h >> 10) & 0x1f
  const f = h & 0x3ff
  if (e === 0) return s * f * 2 ** -24
  if (e === 31) return f ? NaN : s * Infinity
  return s * (1 + f / 1024) * 2 ** (e - 15)
}

function bf16ToFloat(b: number): number {
  const buf = new DataView(new ArrayBuffer(4))
  buf.setUint32(0, (b & 0xffff) << 16)
  return buf.getFloat32(0)
}

/**
 * Read an ONNX MLP: follow the chain of nodes from the graph input to its output, turning Gemm /
 * MatMul+Add into Linear steps (weights stored as `<name>.weight` [out,in] / `<name>.bias`),
 * BatchNormalization into batchnorm steps, activations into activation steps.
 */
export async function readOnnx(file: string): Promise<LoadedFile> {
  let bytes: Uint8Array
  try {
    bytes = new Uint8Array(await readFile(file))
  } catch (err) {
    throw new ModelError(`cannot read ${file}: ${(err as Error).message}`, { where: file, cause: err })
  }
  let model: OModel
  try {
    model = onnxRoot().lookupType('onnx.ModelProto').decode(bytes) as unknown as OModel
  } catch (err) {
    throw new ModelError(`not a valid ONNX file (protobuf decoding failed: ${(err as Error).message})`, {
      where: file,
      hint: 'the file is truncated or corrupt, or not ONNX; re-export it with torch.onnx.export',
      cause: err,
    })
  }
  const graph = model.graph
  if (!graph || !graph.node?.length)
    throw new ModelError('not a valid ONNX model: it has no graph nodes', { where: file, hint: 'the file is truncated or corrupt, or not ONNX; re-export it with torch.onnx.export' })
  return convertGraph(graph, file)
}

function attrs(node: ONode): Map<string, OAttr> {
  return new Map((node.attribute ?? []).map((a) => [a.name ?? '', a.f === undefined ? a : { ...a, f: shortestFloat32(a.f) }]))
}

/**
 * Float attributes are stored as float32: `0.1` arrives as 0.10000000149011612. Give back the shortest
 * decimal that rounds to the same float32 (what the exporting code wrote, e.g. LeakyReLU(0.1), eps=1e-5).
 */
export function shortestFloat32(x: number): number {
  const f = Math.fround(x)
  for (let p = 1; p <= 9; p++) {
    const d = Number(f.toPrecision(p))
    if (Math.fround(d) === f) return d
  }
  return f
}

function convertGraph(graph: OGraph, file: string): LoadedFile {
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

  const inputs = (graph.input ?? []).map((v) => v.name ?? '').filter((n) => n && !consts.has(n))
  if (inputs.length !== 1)
    throw new ModelError(`the ONNX graph has ${inputs.length} data inputs${inputs.length ? ` (${inputs.join(', ')})` : ''}; ml2sc needs exactly one`, {
      where: file,
      hint: 'export an MLP that takes a single [batch, features] tensor',
    })
  const outputs = (graph.output ?? []).map((v) => v.name ?? '')
  if (outputs.length !== 1)
    throw new ModelError(`the ONNX graph has ${outputs.length} outputs; ml2sc needs exactly one`, { where: file, hint: 'export an MLP with a single output tensor' })

  const tensors: TensorMap = new Map()
  const steps: ArchStep[] = []
  const usedNames = new Set<string>()
  let current = inputs[0]!
  /** Tensors computed from shapes and constants only (the Shape→Gather→Concat→Reshape of x.view). */
  const side = new Set<string>()
  /** The MatMul step waiting for its Add (bias). */
  let pendingMatMul: { name: string; out: number; output: string } | undefined

  const nodeLabel = (n: ONode) => `${n.op_type ?? '?'} node '${n.name || (n.output ?? [])[0] || '?'}'`
  const unsupportedNode = (n: ONode, why?: string): never => {
    throw new ModelError(`unsupported ONNX ${nodeLabel(n)}${why ? `: ${why}` : ''}`, {
      where: file,
      hint: `ml2sc converts chains of ${SUPPORTED_ONNX_OPS.join(', ')} (an MLP); convolutions, recurrent layers, attention and branching graphs are not supported`,
    })
  }
  const uniqueName = (base: string): string => {
    let name = base || `layer${steps.length}`
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
  const activation = (activation: Activation, n: ONode) => steps.push({ op: 'activation', activation, name: n.name || undefined })

  for (const n of nodes) {
    const op = n.op_type ?? ''
    if (n.domain && n.domain !== 'ai.onnx') unsupportedNode(n, `operator domain '${n.domain}'`)
    const ins = n.input ?? []
    const outs = n.output ?? []
    const a = attrs(n)
    const dataIns = ins.filter((i) => i && !isConst(i))

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
    if (dataIns.length > 1) unsupportedNode(n, `it combines ${dataIns.length} computed tensors (${dataIns.join(', ')}); only a chain of layers is supported`)
    const x = dataIns[0]!
    if (op === 'Shape') {
      if (x !== current) unsupportedNode(n, 'the graph branches')
      for (const o of outs) side.add(o)
      continue
    }
    if (x !== current) unsupportedNode(n, `its input '${x}' is not the output of the previous layer; only a chain of layers is supported`)
    if (pendingMatMul && op !== 'Add') unsupportedNode(n, `MatMul '${pendingMatMul.name}' must be followed by Add (a bias) or be the last node`)
    const out = outs[0]
    if (!out) unsupportedNode(n, 'it has no output')

    switch (op) {
      case 'Gemm': {
        if (num(a.get('transA')?.i) !== 0) unsupportedNode(n, 'transA=1')
        if (ins[0] !== x || !consts.has(ins[1]!)) unsupportedNode(n, 'its weight B must be an initializer')
        const alpha = a.get('alpha')?.f ?? 1
        const beta = a.get('beta')?.f ?? 1
        const transB = num(a.get('transB')?.i) !== 0
        const B = constTensor(ins[1]!)
        if (B.shape.length !== 2) unsupportedNode(n, `weight has shape [${B.shape}]`)
        const [r, c] = B.shape as [number, number]
        const [outN, inN] = transB ? [r, c] : [c, r]
        const W = new Float64Array(outN * inN)
        for (let o = 0; o < outN; o++) for (let i = 0; i < inN; i++) W[o * inN + i] = alpha * (transB ? B.data[o * c + i]! : B.data[i * c + o]!)
        const name = stepName(n, consts.get(ins[1]!)?.name ?? ins[1])
        tensors.set(`${name}.weight`, { shape: [outN, inN], data: W })
        if (ins[2]) {
          if (!consts.has(ins[2])) unsupportedNode(n, 'its bias C must be an initializer')
          tensors.set(`${name}.bias`, { shape: [outN], data: broadcastBias(constTensor(ins[2]), outN, beta, n, file) })
        }
        steps.push({ op: 'linear', name })
        break
      }
      case 'MatMul': {
        if (ins[0] !== x || !consts.has(ins[1]!)) unsupportedNode(n, 'its second input must be a weight initializer')
        const B = constTensor(ins[1]!)
        if (B.shape.length !== 2) unsupportedNode(n, `weight has shape [${B.shape}]`)
        const [inN, outN] = B.shape as [number, number]
        const W = new Float64Array(outN * inN)
        for (let o = 0; o < outN; o++) for (let i = 0; i < inN; i++) W[o * inN + i] = B.data[i * outN + o]!
        const name = stepName(n, consts.get(ins[1]!)?.name ?? ins[1])
        tensors.set(`${name}.weight`, { shape: [outN, inN], data: W })
        steps.push({ op: 'linear', name })
        pendingMatMul = { name, out: outN, output: out }
        break
      }
      case 'Add': {
        const mm = pendingMatMul
        if (!mm) return unsupportedNode(n, 'Add is only supported as the bias of a MatMul')
        const c = ins.find((i) => i !== x)
        if (!c || !consts.has(c)) return unsupportedNode(n, 'its bias must be an initializer')
        tensors.set(`${mm.name}.bias`, { shape: [mm.out], data: broadcastBias(constTensor(c), mm.out, 1, n, file) })
        pendingMatMul = undefined
        break
      }
      case 'Relu':
        activation({ kind: 'relu' }, n)
        break
      case 'LeakyRelu':
        activation({ kind: 'leaky_relu', slope: a.get('alpha')?.f ?? 0.01 }, n)
        break
      case 'Sigmoid':
        activation({ kind: 'sigmoid' }, n)
        break
      case 'Tanh':
        activation({ kind: 'tanh' }, n)
        break
      case 'Softmax': {
        const axis = a.has('axis') ? num(a.get('axis')!.i) : -1
        if (axis !== -1 && axis !== 1) unsupportedNode(n, `softmax over axis ${axis}`)
        activation({ kind: 'softmax' }, n)
        break
      }
      case 'Identity':
      case 'Dropout':
      case 'Flatten':
      case 'Reshape':
        if (op === 'Reshape' && !isConst(ins[1])) unsupportedNode(n, 'its shape is computed from data')
        if (op === 'Flatten' && a.has('axis') && num(a.get('axis')!.i) !== 1) unsupportedNode(n, `flatten from axis ${num(a.get('axis')!.i)}`)
        steps.push({ op: 'skip', name: n.name || op })
        break
      case 'Cast': {
        const to = num(a.get('to')?.i)
        if (to !== 1 && to !== 11 && to !== 10) unsupportedNode(n, `cast to ${DTYPES[to] ?? to}`)
        steps.push({ op: 'skip', name: n.name || op })
        break
      }
      case 'BatchNormalization': {
        const [, sc, bi, mean, vr] = ins
        if (![sc, bi, mean, vr].every((k) => k && consts.has(k))) unsupportedNode(n, 'its scale, bias, mean and variance must be initializers')
        const scaleName = consts.get(sc!)?.name ?? sc
        const name = stepName(n, scaleName)
        tensors.set(`${name}.weight`, constTensor(sc!))
        tensors.set(`${name}.bias`, constTensor(bi!))
        tensors.set(`${name}.running_mean`, constTensor(mean!))
        tensors.set(`${name}.running_var`, constTensor(vr!))
        steps.push({ op: 'batchnorm', name, eps: a.get('epsilon')?.f ?? 1e-5 })
        break
      }
      default:
        unsupportedNode(n)
    }
    current = out
  }
  if (current !== outputs[0])
    throw new ModelError(`the ONNX graph output '${outputs[0]}' is not the end of the layer chain (which ends at '${current}')`, {
      where: file,
      hint: 'ml2sc converts MLPs whose nodes form a single chain from input to output',
    })
  return { format: 'onnx', tensors, steps }
}

function broadcastBias(t: Tensor, out: number, beta: number, n: ONode, file: string): Float64Array {
  const size = t.data.length
  if (size !== out && size !== 1)
    throw new ModelError(`bias of ${n.op_type} node '${n.name ?? ''}' has shape [${t.shape}], expected [${out}]`, { where: file })
  return Float64Array.from({ length: out }, (_, j) => beta * t.data[size === 1 ? 0 : j]!)
}

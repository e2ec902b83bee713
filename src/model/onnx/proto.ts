import protobuf from 'protobufjs'

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
export type Long = number | { toNumber(): number }
export type OTensor = {
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
export type OAttr = { name?: string; type?: number; f?: number; i?: Long; s?: Uint8Array; t?: OTensor; floats?: number[]; ints?: Long[] }
export type ONode = { name?: string; op_type?: string; domain?: string; input?: string[]; output?: string[]; attribute?: OAttr[] }
export type OValueInfo = { name?: string; type?: { tensor_type?: { shape?: { dim?: { dim_value?: Long; dim_param?: string }[] } } } }
export type OGraph = { node?: ONode[]; initializer?: OTensor[]; input?: OValueInfo[]; output?: OValueInfo[] }
export type OModel = { graph?: OGraph; ir_version?: Long; producer_name?: string }

export const num = (v: Long | undefined): number => (v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber())

export const DTYPES: Record<number, string> = { 1: 'float', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'double', 16: 'bfloat16' }

export function attrs(node: ONode): Map<string, OAttr> {
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

import type { Activation, ArchStep, Tensor, TensorMap } from '../../ir/types.ts'
import type { OAttr, ONode, OTensor } from './proto.ts'

/** What an op mapper (denseOps.ts, convOps.ts) sees of the graph walk: one data node at a time. */
export type OnnxContext = {
  file: string
  /** The weights found so far, under the step names (`fc1.weight`, `conv1.bias`, …). */
  tensors: TensorMap
  steps: ArchStep[]
  /** Initializers and Constant outputs by name; decoded on demand by constTensor. */
  consts: Map<string, OTensor>
  constTensor: (name: string) => Tensor
  /** `fc1` from the weight `fc1.weight`, else a unique name from the node. */
  stepName: (n: ONode, weightName: string | undefined) => string
  unsupportedNode: (n: ONode, why?: string) => never
  activation: (a: Activation, n: ONode) => void
  /** A Gemm applied again (a loop over one nn.Linear, unrolled by the export): its step name by weight, bias and attributes. */
  gemms?: Map<string, string>
  /** The MatMul waiting for its Add (bias). */
  pendingMatMul?: { name: string; out: number; output: string }
  /** A zero Pad node's spatial pads, waiting for the Conv or AveragePool it belongs to. */
  pendingPad?: { begin: number[]; end: number[]; node: string }
}

/** One data node: its op, inputs (the data input `x` first among them), attributes. */
export type OnnxNode = { n: ONode; op: string; ins: string[]; x: string; a: Map<string, OAttr> }

import { readFile } from 'node:fs/promises'
import { ModelError } from '../errors/base.ts'
import { onnxRoot, type OModel } from './onnx/proto.ts'
import { walkGraph } from './onnx/walkGraph.ts'
import type { LoadedFile } from './types.ts'

export { onnxRoot, shortestFloat32 } from './onnx/proto.ts'
export { onnxTensorData } from './onnx/tensorData.ts'
export { SUPPORTED_ONNX_OPS } from './onnx/denseOps.ts'

/**
 * Read an ONNX model: decode the protobuf (onnx/proto.ts), then follow the chain of nodes from the graph
 * input to its output (onnx/walkGraph.ts), turning Gemm / MatMul+Add into Linear steps, Conv and the
 * pools into tensor steps, BatchNormalization into batchnorm steps and activations into activation steps.
 * A [batch, C, H, W] / [batch, C, L] graph input gives the input shape.
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
  return walkGraph(graph, file)
}

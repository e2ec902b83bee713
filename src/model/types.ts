import type { ArchStep, TensorMap } from '../ir/types.ts'

/**
 * What a format reader gives back. Weights-only formats (state_dict .pt/.json, safetensors) return
 * only `tensors`; formats that carry the architecture (ONNX, whole-model .pt, TorchScript) also return
 * `steps`. `loadModel` combines this with model.layers / model.source and builds the IR.
 */
export type LoadedFile = {
  /** e.g. 'onnx', 'state_dict-json', 'state_dict-pt', 'whole-model-pt', 'torchscript', 'safetensors' */
  format: string
  tensors: TensorMap
  steps?: ArchStep[]
  /** The input tensor's shape [C, H, W] / [C, L] when the file records it (ONNX). */
  inputShape?: number[]
  /**
   * Set when the file's module tree gives submodules but not the order forward() uses them
   * (a custom nn.Module): loadModel then requires model.source and says why.
   */
  orderUnknown?: string
}

/** The model part of the config, paths already absolute. */
export type ModelSpec = {
  path: string
  source?: string
  class?: string
  layers?: string[]
  /** Convolutional models: the input tensor's shape when the file does not carry it. */
  inputShape?: number[]
}

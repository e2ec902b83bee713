import { extname } from 'node:path'
import { ModelError } from '../errors/base.ts'
import type { LoadedFile } from '../model/types.ts'

/** Read a model file by its extension, without settling its architecture (what `loadModel` adds). */
export async function readModelFile(file: string): Promise<LoadedFile> {
  const ext = extname(file).toLowerCase()
  switch (ext) {
    case '.onnx':
      return (await import('../model/readOnnx.ts')).readOnnx(file)
    case '.json':
      return (await import('../model/readStateDictJson.ts')).readStateDictJson(file)
    case '.pt':
    case '.pth':
    case '.bin':
      return (await import('../model/readPt.ts')).readPt(file)
    case '.safetensors':
      return (await import('../model/readSafetensors.ts')).readSafetensors(file)
    default:
      throw new ModelError(`unknown model file type '${ext || '(none)'}'`, {
        where: file,
        hint: 'supported: .onnx, .pt / .pth (state_dict, whole model or TorchScript), .safetensors, .json (state_dict as JSON)',
      })
  }
}

import { readFile, stat } from 'node:fs/promises'
import { basename, extname } from 'node:path'
import { ModelError } from '../errors/base.ts'
import { buildModel } from '../ir/buildModel.ts'
import type { ArchStep, ModelIR } from '../ir/types.ts'
import { orderUnknownHint } from './orderUnknownHint.ts'
import { parseLayersSpec } from './parseLayersSpec.ts'
import { parseModuleSource } from './parseModuleSource.ts'
import { readOnnx } from './readOnnx.ts'
import { readStateDictJson } from './readStateDictJson.ts'
import type { LoadedFile, ModelSpec } from './types.ts'

const FORMATS = '.onnx, .pt / .pth (state_dict, whole model or TorchScript), .safetensors, .json (state_dict as JSON)'

/** Read a model file, settle its architecture (model.source > model.layers > the file's own), build the IR. */
export async function loadModel(spec: ModelSpec): Promise<ModelIR> {
  const file = spec.path
  await mustBeFile(file, 'model.path')
  const loaded = await readByExtension(file)

  let steps: ArchStep[] | undefined
  if (spec.source) {
    await mustBeFile(spec.source, 'model.source')
    steps = parseModuleSource(await readFile(spec.source, 'utf8'), spec.class, spec.source, [...loaded.tensors.keys()])
  } else if (spec.layers) {
    // also a whole .pt whose custom nn.Module's forward() is not in the pickle: its tensors, chained as declared
    steps = parseLayersSpec(spec.layers, loaded.tensors, file)
  } else if (loaded.orderUnknown) {
    throw new ModelError(loaded.orderUnknown, { where: file, hint: orderUnknownHint(loaded.tensors) })
  } else {
    steps = loaded.steps
  }
  if (!steps)
    throw new ModelError(`${basename(file)} holds only weights (a state_dict); say how they connect`, {
      where: file,
      hint: 'set model.layers, e.g. [linear, relu, linear, sigmoid], or model.source + model.class',
    })
  return buildModel(steps, loaded.tensors, loaded.format, file, inputShapeOf(spec, loaded))
}

async function mustBeFile(file: string, key: string): Promise<void> {
  const st = await stat(file).catch(() => undefined)
  if (!st) throw new ModelError(`${key}: file not found: ${file}`, { where: file, hint: `check ${key} in the config (relative paths are resolved from the config file's folder)` })
  if (!st.isFile()) throw new ModelError(`${key}: ${file} is not a file`, { where: file, hint: `${key} must name a file` })
}

async function readByExtension(file: string): Promise<LoadedFile> {
  const ext = extname(file).toLowerCase()
  switch (ext) {
    case '.onnx':
      return readOnnx(file)
    case '.json':
      return readStateDictJson(file)
    case '.pt':
    case '.pth':
    case '.bin': {
      const { readPt } = await import('./readPt.ts')
      return readPt(file)
    }
    case '.safetensors': {
      const { readSafetensors } = await import('./readSafetensors.ts')
      return readSafetensors(file)
    }
    default:
      throw new ModelError(`unknown model file type '${ext || '(none)'}'`, { where: file, hint: `supported: ${FORMATS}` })
  }
}

/** The input tensor's shape: model.inputShape, or the one the file records; both must agree. */
function inputShapeOf(spec: ModelSpec, loaded: LoadedFile): number[] | undefined {
  const a = spec.inputShape
  const b = loaded.inputShape
  if (a && b && a.join() !== b.join())
    throw new ModelError(`model.inputShape is [${a}] but ${basename(spec.path)} records [${b}]`, { where: 'model.inputShape', hint: 'remove model.inputShape or make it match the file' })
  return a ?? b
}

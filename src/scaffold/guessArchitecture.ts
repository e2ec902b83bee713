import { orderUnknownHint } from '../model/orderUnknownHint.ts'
import { existsSync, readdirSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { ModelError, Ml2scError } from '../errors/base.ts'
import { buildModel } from '../ir/buildModel.ts'
import { inferInputShape } from '../ir/inferInputShape.ts'
import type { ArchStep, ModelIR } from '../ir/types.ts'
import { parseLayersSpec } from '../model/parseLayersSpec.ts'
import { parseModuleSource } from '../model/parseModuleSource.ts'
import type { LoadedFile } from '../model/types.ts'
import { readModelFile } from './readModelFile.ts'
import { guessLayers } from './guessLayers.ts'
import { guessRecurrent } from './guessRecurrent.ts'

export { guessLayers }

export type ArchitectureGuess = {
  ir: ModelIR
  format: string
  /**
   * Where the architecture comes from: the file itself (ONNX graph, pickled module tree, TorchScript),
   * an `nn.Module` source found beside it, or `model.layers` guessed from the tensor shapes.
   */
  how: 'file' | 'source' | 'layers'
  /** What the config needs: nothing, `source` (absolute) + `class`, or `layers`. */
  source?: string
  class?: string
  layers?: string[]
  /** One line saying how the architecture was found, for the user. */
  note: string
  /** A guessed sequence model: what was assumed of forward() (the readout), for the GUESSED notice. */
  assumed?: string
  /** A convolutional model whose file does not record its input shape: the guessed shape (inferInputShape). */
  inputShape?: number[]
}

/**
 * `features`: the test CSV's feature count (the label left out), for a window or image size the file does not
 * record; `labelsPerHead`: the CSV holds a label column per head of a multi-output model, so n heads take n − 1
 * more columns out of `features`.
 */
export type GuessOptions = { binary?: boolean; inputShape?: number[]; features?: number; labelsPerHead?: boolean }

/** The feature count inferInputShape sees for these steps (one label column per head with labelsPerHead). */
function featuresOf(steps: ArchStep[], opts: GuessOptions): number | undefined {
  const last = steps.at(-1)
  return opts.features !== undefined && opts.labelsPerHead && last?.op === 'heads' ? opts.features - (last.names.length - 1) : opts.features
}

/**
 * Settle a model file's architecture with no config: the file's own when it has one; else an ML2SC-style
 * `nn.Module` source (`.py`) beside the file whose layers fit the tensors; a source there that cannot be
 * read (or does not fit) is an error naming it, never skipped; only with no source at all, a guess from the tensor
 * shapes: the Linear layers in state_dict order (BatchNorm folded where it sits), ReLU between them, and
 * for a single output a sigmoid (unless `binary` is false: then a regression, no final activation).
 */
export async function guessArchitecture(file: string, opts: GuessOptions = {}): Promise<ArchitectureGuess> {
  const st = await stat(file).catch(() => undefined)
  if (!st?.isFile()) throw new ModelError(st ? `${file} is not a file` : `model file not found: ${file}`, { where: file })
  const loaded = await readModelFile(file)
  if (opts.inputShape) loaded.inputShape = opts.inputShape
  if (loaded.steps && !loaded.orderUnknown) {
    const guessed = loaded.inputShape ? undefined : inferInputShape(loaded.steps, loaded.tensors, featuresOf(loaded.steps, opts))
    const ir = buildModel(loaded.steps, loaded.tensors, loaded.format, file, loaded.inputShape ?? guessed)
    return { ir, format: loaded.format, how: 'file', note: `architecture from the file (${loaded.format})`, ...(guessed ? { inputShape: guessed } : {}) }
  }
  const fromSource = await trySources(file, loaded, opts)
  if (fromSource.guess) return fromSource.guess
  // a source beside the model that cannot be read is never skipped: no guess from the tensors past it
  if (fromSource.failures.length) throw unreadableSource(file, fromSource.failures[0]!)
  // a GRU/LSTM with no source (a state_dict, or a whole .pt whose forward() the pickle does not hold): guessRecurrent
  const rec = [...loaded.tensors.keys()].filter((k) => /\.weight_ih_l0$/.test(k))
  if (rec.length) return guessRecurrent(file, loaded, rec, opts)
  if (loaded.orderUnknown) throw new ModelError(loaded.orderUnknown, { where: file, hint: orderUnknownHint(loaded.tensors) })
  const conv = [...loaded.tensors].find(([k, t]) => k.endsWith('.weight') && t.shape.length >= 3)
  if (conv)
    throw new ModelError(`${path.basename(file)} holds convolution weights ('${conv[0]}' is ${conv[1].shape.join('×')}): their order, strides, padding and pooling are not in the tensors`, {
      where: file,
      hint: "put the nn.Module's .py beside it (or set model.source + model.class) and set model.inputShape",
    })
  const layers = guessLayers(loaded.tensors, opts)
  try {
    const ir = buildModel(parseLayersSpec(layers, loaded.tensors, file), loaded.tensors, loaded.format, file)
    return { ir, format: loaded.format, how: 'layers', layers, note: `layers guessed from the tensor shapes: ${layers.join(', ')}` }
  } catch (e) {
    throw new ModelError(`cannot guess how the layers of ${path.basename(file)} connect (${(e as Ml2scError).shortMessage ?? String(e)})`, {
      where: file,
      hint: 'write model.layers (e.g. [linear, relu, linear, sigmoid]) or model.source + model.class yourself',
      cause: e,
    })
  }
}

/** A source beside the model that could not be used, and why (the reader's one line: file, line, construct). */
type SourceFailure = { file: string; error: Ml2scError | Error }

/**
 * ML2SC-style sources beside the model: model.py first, then the other .py files; the first class that
 * fits wins. Every source that was tried and could not be used is returned too: init does not guess
 * past it. A .py file with no nn.Module class is not a model source (model.py excepted: it always is).
 */
async function trySources(file: string, loaded: LoadedFile, opts: GuessOptions): Promise<{ guess?: ArchitectureGuess; failures: SourceFailure[] }> {
  const dir = path.dirname(file)
  const failures: SourceFailure[] = []
  if (!existsSync(dir)) return { failures }
  const pys = readdirSync(dir)
    .filter((f) => f.endsWith('.py'))
    .sort((a, b) => (a === 'model.py' ? -1 : b === 'model.py' ? 1 : a.localeCompare(b)))
  for (const py of pys) {
    const full = path.join(dir, py)
    let text: string
    try {
      text = await readFile(full, 'utf8')
    } catch (e) {
      failures.push({ file: full, error: e as Error })
      continue
    }
    const classes = [...text.matchAll(/^class\s+(\w+)\s*\(([^)]*)\)\s*:/gm)].filter((m) => /(^|\.)Module\b/.test(m[2]!)).map((m) => m[1]!)
    if (!classes.length && py === 'model.py') failures.push({ file: full, error: new ModelError(`${py} defines no class X(nn.Module)`, { where: full }) })
    for (const cls of classes) {
      try {
        const steps = parseModuleSource(text, cls, full)
        const guessed = loaded.inputShape ? undefined : inferInputShape(steps, loaded.tensors, featuresOf(steps, opts))
        const ir = buildModel(steps, loaded.tensors, loaded.format, file, loaded.inputShape ?? guessed)
        return { guess: { ir, format: loaded.format, how: 'source', source: full, class: cls, note: `architecture from ${py}, class ${cls}`, ...(guessed ? { inputShape: guessed } : {}) }, failures }
      } catch (e) {
        failures.push({ file: full, error: e as Error })
      }
    }
  }
  return { failures }
}

/** init refuses to guess past a source it could not read: one line naming the file, line and construct. */
function unreadableSource(model: string, f: SourceFailure): ModelError {
  const why = f.error instanceof Ml2scError ? f.error.shortMessage : f.error.message
  return new ModelError(`${path.basename(f.file)} lies beside ${path.basename(model)} but ml2sc cannot read it (${why}); init does not guess the layers when a source exists`, {
    where: f.file,
    hint: 'write the config yourself with model.path and model.layers (e.g. [linear, relu, linear]) if forward() is a plain chain, or rewrite forward() in the subset ml2sc reads (README, Model formats) and set model.source + model.class',
    cause: f.error,
  })
}

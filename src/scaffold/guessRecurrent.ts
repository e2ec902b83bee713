import path from 'node:path'
import { ModelError, type Ml2scError } from '../errors/base.ts'
import { buildModel } from '../ir/buildModel.ts'
import { inferInputShape } from '../ir/inferInputShape.ts'
import { parseLayersSpec } from '../model/parseLayersSpec.ts'
import type { LoadedFile } from '../model/types.ts'
import type { ModelIR } from '../ir/types.ts'
import { guessLayers } from './guessLayers.ts'

/** guessArchitecture's ArchitectureGuess, for a guessed GRU/LSTM chain. */
export type RecurrentGuess = { ir: ModelIR; format: string; how: 'layers'; layers: string[]; assumed: string; note: string; inputShape?: number[] }

/**
 * The guessed chain of a GRU/LSTM model whose file has no forward() and no source beside it (a state_dict, or a
 * whole .pt of a custom nn.Module): the recurrent module first (GRU or LSTM by its gate blocks: weight_ih_l0 has
 * 3·H or 4·H rows), read as its last time step's output out[:, -1, :] (h_n[-1] for one direction), then the
 * Linear layers in state_dict order with ReLU between (guessLayers), the window [T, F] from the CSV's column
 * count. Marked GUESSED by init (model.guessed) with the readout assumed; a source beside the file is never
 * guessed past (guessArchitecture tries it first).
 */
export function guessRecurrent(file: string, loaded: LoadedFile, keys: string[], opts: { binary?: boolean; features?: number }): RecurrentGuess {
  const base = path.basename(file)
  const prefix = keys[0]!.slice(0, -'.weight_ih_l0'.length)
  if (keys.length > 1) throw new ModelError(`${base} holds ${keys.length} recurrent modules (${keys.map((k) => `'${k.slice(0, -13)}'`).join(', ')}): how forward() chains them is not in the file`, { where: file, hint: "put the nn.Module's .py beside it (or set model.source + model.class)" })
  const wi = loaded.tensors.get(keys[0]!)!
  const wh = loaded.tensors.get(`${prefix}.weight_hh_l0`)
  const G = wh ? wi.shape[0]! / wh.shape[1]! : 0
  if (G !== 3 && G !== 4) throw new ModelError(`${base}: '${prefix}' is neither a GRU nor an LSTM (weight_ih_l0 [${wi.shape}], weight_hh_l0 [${wh?.shape ?? '–'}])`, { where: file, hint: "put the nn.Module's .py beside it (or set model.source + model.class)" })
  const kind = G === 3 ? 'gru' : 'lstm'
  const layers = [kind, ...guessLayers(loaded.tensors, opts)]
  const linears = layers.filter((l) => l === 'linear').length
  const assumed = `${kind.toUpperCase()} '${prefix}' → its last time step's output (out[:, -1, :]) → the ${linears} Linear layer(s) in state_dict order`
  try {
    const steps = parseLayersSpec(layers, loaded.tensors, file)
    const inputShape = loaded.inputShape ?? inferInputShape(steps, loaded.tensors, opts.features)
    const ir = buildModel(steps, loaded.tensors, loaded.format, file, inputShape)
    return { ir, format: loaded.format, how: 'layers', layers, assumed, note: `layers guessed from the tensors: ${assumed}`, ...(inputShape ? { inputShape } : {}) }
  } catch (e) {
    throw new ModelError(`cannot guess how ${base}'s ${kind.toUpperCase()} '${prefix}' feeds its Linear layers (${(e as Ml2scError).shortMessage ?? String(e)}); ml2sc guesses ${assumed}`, {
      where: file,
      hint: "put the nn.Module's .py beside it (or set model.source + model.class), and model.inputShape: [T, F]",
      cause: e,
    })
  }
}

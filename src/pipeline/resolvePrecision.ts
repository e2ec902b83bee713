import type { Config, WeightWidth } from '../config/types.ts'
import { ConfigError, NumericsError } from '../errors/base.ts'
import type { PrecisionSpec } from '../fixed/types.ts'

/** Bytes of a width: int4 is half a byte (two weights a byte). */
export const widthBytes = (w: WeightWidth) => Number(w.slice(3)) / 8

/**
 * Turn the precision config into the plan's inputs: a binary scale 2^fraction or a decimal one 10^decimals
 * (PRBMath / ML2SC style). `weights: auto` starts at int16; prepareModel widens it when the simulator
 * shows int16 is not accurate enough for this model.
 */
export function resolvePrecision(p: Config['precision'], layerNames?: string[]): PrecisionSpec {
  const layerWeightBytes = typeof p.weights === 'object' ? layerWidths(p.weights, layerNames) : undefined
  // per layer: the widest of them (the plan's weightBytes); the layers' own when the model's layer names are given
  const weightBytes = typeof p.weights === 'object' ? Math.max(...Object.values(p.weights).map(widthBytes)) : p.weights === 'auto' ? 2 : widthBytes(p.weights)
  if (weightBytes > 8) throw new NumericsError(`precision.weights ${JSON.stringify(p.weights)} is wider than the lanes can hold`, { where: 'precision.weights', hint: 'use int8 … int64' })
 // `inputs: auto` is chosen from the test rows (prepareModel → chooseInputs); int32 until then
  const inputBytes = p.inputs === 'auto' ? 4 : widthBytes(p.inputs)
  // a decimal scale needs room: inputs up to ±16 at 10^decimals must fit the calldata width
  if (p.decimals !== undefined && p.inputs !== 'auto' && 2n ** BigInt(8 * inputBytes - 1) < 16n * 10n ** BigInt(p.decimals)) {
    const need = (['int32', 'int64', 'int128', 'int256'] as const).find((w) => 2n ** BigInt(widthBytes(w) * 8 - 1) >= 16n * 10n ** BigInt(p.decimals!))
    throw new NumericsError(`${p.inputs} cannot hold inputs of ±16 at scale 10^${p.decimals}`, { where: 'precision.inputs', hint: `use precision.inputs: ${need ?? 'int256'} with decimals: ${p.decimals}` })
  }
  return { fraction: typeof p.fraction === 'number' ? p.fraction : 20, decimals: p.decimals, weightBytes, ...(layerWeightBytes ? { layerWeightBytes } : {}), inputBytes }
}

/**
 * `precision.weights` per layer: a list (one width per weighted layer: the convs, then the Linear layers, in
 * order) or a map by layer name (every weighted layer named). `names`: the model's weighted layers.
 */
function layerWidths(w: WeightWidth[] | Record<string, WeightWidth>, names: string[] | undefined): number[] | undefined {
  if (!names) return undefined
  const list = names.join(', ')
  if (Array.isArray(w)) {
    if (w.length !== names.length)
      throw new ConfigError(`${w.length} width(s) given; the model has ${names.length} weighted layer(s) (${list})`, { where: 'precision.weights', hint: `give one width per layer, in this order: ${list}` })
    return w.map(widthBytes)
  }
  const unknown = Object.keys(w).filter((k) => !names.includes(k))
  if (unknown.length) throw new ConfigError(`the model has no layer '${unknown[0]}'`, { where: `precision.weights.${unknown[0]}`, hint: `the weighted layers are: ${list}` })
  const missing = names.filter((n) => !(n in w))
  if (missing.length) throw new ConfigError(`no width for layer '${missing[0]}'`, { where: 'precision.weights', hint: `name every weighted layer (${list}), or give one width for the whole model` })
  return names.map((n) => widthBytes(w[n]!))
}

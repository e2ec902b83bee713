import type { Config, WeightWidth } from '../config/types.ts'
import { NumericsError } from '../errors/base.ts'
import type { PrecisionSpec } from '../fixed/types.ts'

/** Bytes of a width: int4 is half a byte (two weights a byte). */
export const widthBytes = (w: WeightWidth) => Number(w.slice(3)) / 8

/**
 * Turn the precision config into the plan's inputs: a binary scale 2^fraction or a decimal one 10^decimals
 * (PRBMath / ML2SC style). `weights: auto` starts at int16; prepareModel widens it when the simulator
 * shows int16 is not accurate enough for this model.
 */
export function resolvePrecision(p: Config['precision']): PrecisionSpec {
  const weightBytes = p.weights === 'auto' ? 2 : widthBytes(p.weights)
  if (weightBytes > 8) throw new NumericsError(`precision.weights ${p.weights} is wider than the lanes can hold`, { where: 'precision.weights', hint: 'use int8 … int64' })
 // `inputs: auto` is chosen from the test rows (prepareModel → chooseInputs); int32 until then
  const inputBytes = p.inputs === 'auto' ? 4 : widthBytes(p.inputs)
  // a decimal scale needs room: inputs up to ±16 at 10^decimals must fit the calldata width
  if (p.decimals !== undefined && p.inputs !== 'auto' && 2n ** BigInt(8 * inputBytes - 1) < 16n * 10n ** BigInt(p.decimals)) {
    const need = (['int32', 'int64', 'int128', 'int256'] as const).find((w) => 2n ** BigInt(widthBytes(w) * 8 - 1) >= 16n * 10n ** BigInt(p.decimals!))
    throw new NumericsError(`${p.inputs} cannot hold inputs of ±16 at scale 10^${p.decimals}`, { where: 'precision.inputs', hint: `use precision.inputs: ${need ?? 'int256'} with decimals: ${p.decimals}` })
  }
  return { fraction: p.fraction ?? 20, decimals: p.decimals, weightBytes, inputBytes }
}

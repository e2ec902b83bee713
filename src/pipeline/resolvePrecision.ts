import type { Config, IntWidth } from '../config/types.ts'
import { NumericsError } from '../errors/base.ts'
import type { PrecisionSpec } from '../fixed/types.ts'

export const widthBytes = (w: IntWidth) => Number(w.slice(3)) / 8

/**
 * Turn the precision config into the plan's inputs. `weights: auto` starts at int16; prepareModel widens it
 * to int32 when the simulator shows int16 is not accurate enough for this model.
 */
export function resolvePrecision(p: Config['precision']): PrecisionSpec {
  if (p.decimals !== undefined)
    throw new NumericsError('precision.decimals (a 10^d scale) is not supported by the code generator yet', {
      where: 'precision.decimals',
      hint: 'use precision.fraction (a 2^f scale); 2^60 ≈ 10^18 if you need PRBMath-like resolution',
    })
  const weightBytes = p.weights === 'auto' ? 2 : widthBytes(p.weights)
  if (weightBytes > 8) throw new NumericsError(`precision.weights ${p.weights} is wider than the lanes can hold`, { where: 'precision.weights', hint: 'use int8 … int64' })
  return { fraction: p.fraction ?? 20, weightBytes, inputBytes: widthBytes(p.inputs) }
}

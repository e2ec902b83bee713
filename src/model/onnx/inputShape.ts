import type { OValueInfo } from './proto.ts'
import { num } from './proto.ts'

/**
 * The input tensor's shape without the batch axis, when the graph records a [batch, C, L] or
 * [batch, C, H, W] input with fixed sizes (torch.onnx.export does); undefined for [batch, features].
 */
export function graphInputShape(v: OValueInfo): number[] | undefined {
  const dims = v.type?.tensor_type?.shape?.dim
  if (!dims || dims.length < 3 || dims.length > 4) return undefined
  const sizes = dims.slice(1).map((d) => (d.dim_value === undefined ? 0 : num(d.dim_value)))
  return sizes.every((s) => s > 0) ? sizes : undefined
}

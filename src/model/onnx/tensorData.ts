import { ModelError } from '../../errors/base.ts'
import type { Tensor } from '../../ir/types.ts'
import { DTYPES, num, type Long, type OTensor } from './proto.ts'

/** Decode an ONNX tensor to float64 (float, double, float16, bfloat16, and integer types for shapes). */
export function onnxTensorData(t: OTensor, file: string): Tensor {
  const shape = (t.dims ?? []).map(num)
  const count = shape.reduce((a, b) => a * b, 1)
  const dt = t.data_type ?? 0
  const name = t.name ?? '(unnamed)'
  if (t.data_location === 1)
    throw new ModelError(`tensor '${name}' is stored in an external data file`, { where: file, hint: 'export with the weights inside the .onnx file (small MLPs need no external data)' })
  const raw = t.raw_data && t.raw_data.length ? t.raw_data : undefined
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined
  const data = new Float64Array(count)
  const need = (bytes: number) => {
    if (raw && raw.length !== count * bytes)
      throw new ModelError(`tensor '${name}' has ${raw.length} bytes of data, expected ${count * bytes} for shape [${shape}]`, { where: file, hint: 'the file is corrupt' })
  }
  const fromList = (list: ArrayLike<Long> | undefined) => {
    if (!list || list.length !== count)
      throw new ModelError(`tensor '${name}' has ${list?.length ?? 0} values, expected ${count} for shape [${shape}]`, { where: file, hint: 'the file is corrupt' })
    for (let i = 0; i < count; i++) data[i] = num(list[i])
  }
  switch (dt) {
    case 1: // float
      if (view) {
        need(4)
        for (let i = 0; i < count; i++) data[i] = view.getFloat32(i * 4, true)
      } else fromList(t.float_data)
      break
    case 11: // double
      if (view) {
        need(8)
        for (let i = 0; i < count; i++) data[i] = view.getFloat64(i * 8, true)
      } else fromList(t.double_data)
      break
    case 10: // float16: raw, or int32_data holding the bit patterns
    case 16: {
      const conv = dt === 10 ? halfToFloat : (bits: number) => bf16ToFloat(bits)
      if (view) {
        need(2)
        for (let i = 0; i < count; i++) data[i] = conv(view.getUint16(i * 2, true))
      } else {
        fromList(t.int32_data)
        for (let i = 0; i < count; i++) data[i] = conv(data[i]! & 0xffff)
      }
      break
    }
    case 7: // int64
      if (view) {
        need(8)
        for (let i = 0; i < count; i++) data[i] = Number(view.getBigInt64(i * 8, true))
      } else fromList(t.int64_data)
      break
    case 6: // int32
      if (view) {
        need(4)
        for (let i = 0; i < count; i++) data[i] = view.getInt32(i * 4, true)
      } else fromList(t.int32_data)
      break
    default:
      throw new ModelError(`tensor '${name}' has element type ${DTYPES[dt] ?? dt}, which ml2sc does not read`, {
        where: file,
        hint: 'weights must be float32, float64 or float16 (quantized ONNX models are not supported)',
      })
  }
  return { shape, data }
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1
  const e = (h >> 10) & 0x1f
  const f = h & 0x3ff
  if (e === 0) return s * f * 2 ** -24
  if (e === 31) return f ? NaN : s * Infinity
  return s * (1 + f / 1024) * 2 ** (e - 15)
}

function bf16ToFloat(b: number): number {
  const buf = new DataView(new ArrayBuffer(4))
  buf.setUint32(0, (b & 0xffff) << 16)
  return buf.getFloat32(0)
}

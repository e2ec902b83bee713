import { readFile } from 'node:fs/promises'
import { ModelError } from '../errors/base.ts'
import type { TensorMap } from '../ir/types.ts'
import { decodeElements } from './readTorchZip.ts'
import type { LoadedFile } from './types.ts'

const DTYPES: Record<string, [dtype: string, size: number]> = {
  F64: ['float64', 8],
  F32: ['float32', 4],
  F16: ['float16', 2],
  BF16: ['bfloat16', 2],
  I64: ['int64', 8],
  I32: ['int32', 4],
  I16: ['int16', 2],
  I8: ['int8', 1],
  U8: ['uint8', 1],
  BOOL: ['bool', 1],
}

/**
 * Read a `.safetensors` file: an 8-byte little-endian header length, a JSON header
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: {...} }`, then the raw
 * little-endian tensor bytes. Weights only: the architecture comes from model.layers / model.source.
 * Tensors are returned in the order of their data in the file (the order they were saved in).
 */
export async function readSafetensors(file: string): Promise<LoadedFile> {
  let bytes: Uint8Array
  try {
    bytes = new Uint8Array(await readFile(file))
  } catch (cause) {
    throw new ModelError(`cannot read the model file: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { where: file, cause })
  }
  return readSafetensorsBytes(bytes, file)
}

export function readSafetensorsBytes(bytes: Uint8Array, file: string): LoadedFile {
  const bad = (what: string, hint = 'the file is incomplete or damaged; save it again with safetensors.torch.save_file') =>
    new ModelError(`not a valid safetensors file: ${what}`, { where: file, hint })
  if (bytes.length < 8) throw bad(`it has only ${bytes.length} bytes`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const n = view.getBigUint64(0, true)
  if (n === 0n || n > BigInt(bytes.length - 8)) throw bad(`the header length (${n} bytes) does not fit in the file (${bytes.length} bytes); the file is truncated or not safetensors`)
  const headerLen = Number(n)
  let header: unknown
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)))
  } catch (cause) {
    throw new ModelError(`not a valid safetensors file: the header is not valid JSON (${(cause as Error).message})`, { where: file, cause })
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw bad('the header is not a JSON object')
  const dataStart = 8 + headerLen
  const dataLen = bytes.length - dataStart

  type Entry = { name: string; dtype: string; shape: number[]; begin: number; end: number }
  const entries: Entry[] = []
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue
    const i = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown }
    if (typeof i !== 'object' || i === null) throw bad(`tensor '${name}' has no description`)
    if (typeof i.dtype !== 'string' || !DTYPES[i.dtype])
      throw new ModelError(`tensor '${name}' has dtype ${String(i.dtype)}`, {
        where: file,
        hint: `supported dtypes: ${Object.keys(DTYPES).join(', ')}`,
      })
    const shape = i.shape
    const offs = i.data_offsets
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw bad(`tensor '${name}' has a bad shape`)
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isInteger(d) && d >= 0) || offs[0] > offs[1])
      throw bad(`tensor '${name}' has bad data_offsets`)
    const [begin, end] = offs as [number, number]
    const numel = (shape as number[]).reduce((a, b) => a * b, 1)
    const size = DTYPES[i.dtype]![1]
    if (end - begin !== numel * size)
      throw bad(`tensor '${name}' spans ${end - begin} bytes but shape [${shape}] × ${i.dtype} needs ${numel * size}`)
    if (end > dataLen) throw bad(`tensor '${name}' ends at byte ${end} of a ${dataLen}-byte data section; the file is truncated`)
    entries.push({ name, dtype: i.dtype, shape: shape as number[], begin, end })
  }
  entries.sort((a, b) => a.begin - b.begin)
  const tensors: TensorMap = new Map()
  for (const e of entries) {
    const [dtype, size] = DTYPES[e.dtype]!
    const raw = bytes.subarray(dataStart + e.begin, dataStart + e.end)
    tensors.set(e.name, { shape: e.shape, data: decodeElements(raw, dtype, (e.end - e.begin) / size, true) })
  }
  return { format: 'safetensors', tensors }
}

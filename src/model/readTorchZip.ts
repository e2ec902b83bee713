import { ModelError } from '../errors/base.ts'
import type { Tensor } from '../ir/types.ts'
import { isZip, readZip } from './readZip.ts'
import { describe, PyGlobal, StorageRef, TensorRef, unpickle } from './unpickle.ts'

/**
 * A .pt file opened: the unpickled root object (data.pkl), a way to turn its TensorRefs into float64
 * tensors, and — for TorchScript archives — the `code/` sources.
 */
export type TorchArchive = {
  file: string
  /** 'zip' (torch >= 1.6, and every TorchScript file) or 'legacy' (the older pickle-stream format). */
  container: 'zip' | 'legacy'
  root: unknown
  /** True for torch.jit.save archives (they hold `code/` and `constants.pkl`). */
  torchscript: boolean
  /** TorchScript sources, keyed by their path under `code/` (e.g. `__torch__/torch/nn/modules/linear.py`). */
  code: Map<string, string>
  /** Read a tensor's elements in row-major order as float64 (honours dtype, offset and strides). */
  tensor(ref: TensorRef, name: string): Tensor
  /** TorchScript's constant tensor i (`CONSTANTS.c<i>` in `code/`, from constants.pkl), if there is one. */
  constant?(i: number): Tensor | undefined
}

const ELEMENT_SIZE: Record<string, number> = {
  float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
}

/** Open a .pt file (ZIP or legacy) from its bytes. */
export function readTorchFile(bytes: Uint8Array, file: string): TorchArchive {
  if (isZip(bytes)) return readTorchZip(bytes, file)
  if (bytes.length > 2 && bytes[0] === 0x80 && bytes[1]! >= 2 && bytes[1]! <= 5) return readTorchLegacy(bytes, file)
  if (bytes.length > 262 && new TextDecoder().decode(bytes.subarray(257, 262)) === 'ustar')
    throw new ModelError('this is a tar-format .pt from torch < 0.4', {
      where: file,
      hint: 're-save it with torch >= 1.6 (zip format): torch.save(torch.load(path), path)',
    })
  if (bytes.length >= 2 && bytes[0] === 0x50 && bytes[1] === 0x4b)
    throw new ModelError('the archive is truncated or corrupt: it starts like a ZIP file but is not one', { where: file })
  throw new ModelError('this is not a PyTorch file (neither a torch.save ZIP archive nor a legacy pickle)', {
    where: file,
    hint: bytes.length === 0 ? 'the file is empty' : 'save the model with torch.save, torch.jit.save or as .safetensors',
  })
}

function readTorchZip(bytes: Uint8Array, file: string): TorchArchive {
  const zip = readZip(bytes, file)
  const names = [...zip.entries.keys()]
  const pkl = names.filter((n) => /^([^/]+\/)?data\.pkl$/.test(n)).sort((a, b) => a.length - b.length)[0]
  if (!pkl) {
    throw new ModelError('the ZIP archive has no data.pkl, so it is not a torch.save / torch.jit.save file', {
      where: file,
      hint: `it holds: ${names.slice(0, 6).join(', ')}${names.length > 6 ? ', …' : ''}`,
    })
  }
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length)
  let littleEndian = true
  if (zip.has(`${prefix}byteorder`)) {
    const order = new TextDecoder().decode(zip.read(`${prefix}byteorder`)).trim()
    if (order === 'big') littleEndian = false
  }
  const storages = new Map<string, StorageRef>()
  const persistentLoad = (pid: unknown) => storagePid(pid, storages, file)
  const root = unpickle(zip.read(pkl), { file, member: pkl, persistentLoad }).value
  const code = new Map<string, string>()
  const codePrefix = `${prefix}code/`
  const torchscript = zip.has(`${prefix}constants.pkl`) || names.some((n) => n.startsWith(codePrefix))
  if (torchscript) {
    const dec = new TextDecoder()
    for (const n of names) if (n.startsWith(codePrefix) && n.endsWith('.py')) code.set(n.slice(codePrefix.length), dec.decode(zip.read(n)))
  }
  const cache = new Map<string, Float64Array>()
  const load = (s: StorageRef): Float64Array => {
    let data = cache.get(s.key)
    if (!data) {
      const member = `${prefix}data/${s.key}`
      if (!zip.has(member))
        throw new ModelError(`the archive is truncated or corrupt: storage '${s.key}' (${member}) is missing`, { where: file })
      data = decodeStorage(zip.read(member), s, littleEndian, file)
      cache.set(s.key, data)
    }
    return data
  }
  // constants.pkl: a tuple of tensors whose storages sit under constants/ (read on demand, by the same unpickler)
  let constants: unknown[] | undefined
  const constant = (i: number): Tensor | undefined => {
    if (!constants) {
      const member = `${prefix}constants.pkl`
      const cStorages = new Map<string, StorageRef>()
      constants = zip.has(member) ? ((v) => (Array.isArray(v) ? v : []))(unpickle(zip.read(member), { file, member, persistentLoad: (pid) => storagePid(pid, cStorages, file) }).value) : []
    }
    const ref = constants[i]
    if (!(ref instanceof TensorRef)) return undefined
    const raw = `${prefix}constants/${ref.storage.key}`
    if (!zip.has(raw)) return undefined
    return gather(ref, decodeStorage(zip.read(raw), ref.storage, littleEndian, file), `CONSTANTS.c${i}`, file)
  }
  return { file, container: 'zip', root, torchscript, code, tensor: (ref, name) => gather(ref, load(ref.storage), name, file), constant }
}

/** torch < 1.6 (or `_use_new_zipfile_serialization=False`): magic, version, sys_info, data, keys, raw storages. */
function readTorchLegacy(bytes: Uint8Array, file: string): TorchArchive {
  const first = unpickle(bytes, { file })
  const magic = first.value
  if (typeof magic !== 'bigint' || magic !== 0x1950a86a20f9469cfc6cn) {
    throw new ModelError('this pickle is not a torch.save file (no PyTorch magic number)', {
      where: file,
      hint: 'if it is a plain pickle of a model, re-save it with torch.save(model.state_dict(), path)',
    })
  }
  const version = unpickle(bytes, { file, offset: first.end })
  if (version.value !== 1001)
    throw new ModelError(`unsupported legacy torch.save protocol version ${String(version.value)}`, {
      where: file,
      hint: 're-save it with torch >= 1.6 (zip format): torch.save(torch.load(path), path)',
    })
  const sysInfo = unpickle(bytes, { file, offset: version.end })
  const info = sysInfo.value as { map?: Map<unknown, unknown> }
  const littleEndian = info?.map?.get('little_endian') !== false
  const storages = new Map<string, StorageRef>()
  const main = unpickle(bytes, { file, offset: sysInfo.end, persistentLoad: (pid) => storagePid(pid, storages, file) })
  const keysPickle = unpickle(bytes, { file, offset: main.end })
  const keys = keysPickle.value
  if (!Array.isArray(keys)) throw new ModelError('the legacy .pt has no storage key list', { where: file })
  // The raw storages follow, in the order of the key list: an int64 element count, then the elements.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const data = new Map<string, Float64Array>()
  let pos = keysPickle.end
  for (const key of keys) {
    const s = storages.get(String(key))
    if (!s) throw new ModelError(`the legacy .pt lists storage '${String(key)}' that no tensor uses`, { where: file })
    if (pos + 8 > bytes.length) throw new ModelError('the archive is truncated or corrupt: a storage header is missing', { where: file })
    const numel = Number(view.getBigInt64(pos, littleEndian))
    pos += 8
    const nbytes = numel * ELEMENT_SIZE[s.dtype]!
    if (numel < 0 || pos + nbytes > bytes.length)
      throw new ModelError(`the archive is truncated or corrupt: storage '${String(key)}' runs past the end of the file`, { where: file })
    data.set(s.key, decodeStorage(bytes.subarray(pos, pos + nbytes), { ...s, numel } as StorageRef, littleEndian, file))
    pos += nbytes
  }
  return {
    file,
    container: 'legacy',
    root: main.value,
    torchscript: false,
    code: new Map(),
    tensor: (ref, name) => {
      const d = data.get(ref.storage.key)
      if (!d) throw new ModelError(`the archive is truncated or corrupt: storage '${ref.storage.key}' is missing`, { where: file })
      return gather(ref, d, name, file)
    },
  }
}

/**
 * A storage persistent id: ('storage', <torch.FloatStorage>, key, location, numel[, view_metadata]).
 * The legacy format also uses ('module', <class>, source_file, source) for nn.Module classes.
 */
function storagePid(pid: unknown, storages: Map<string, StorageRef>, file: string): unknown {
  if (!Array.isArray(pid) || pid.length < 1) throw new ModelError(`unexpected persistent id ${describe(pid)}`, { where: file })
  if (pid[0] === 'module' && pid[1] instanceof PyGlobal) return pid[1]
  if (pid[0] !== 'storage' || pid.length < 5)
    throw new ModelError(`unexpected persistent id ('${String(pid[0])}', …)`, { where: file, hint: 'is this a file written by torch.save?' })
  const [, type, key, location, numel, viewMeta] = pid
  if (!(type instanceof PyGlobal) || type.role !== 'storage')
    throw new ModelError(`unsupported storage type ${describe(type)}`, {
      where: file,
      hint: 'ml2sc reads float32, float64, float16, bfloat16 and integer tensors',
    })
  if (viewMeta !== undefined && viewMeta !== null)
    throw new ModelError('the legacy .pt uses storage views (torch < 0.4)', {
      where: file,
      hint: 're-save it with torch >= 1.6 (zip format): torch.save(torch.load(path), path)',
    })
  const dtype = storageDtype(type.name)
  const k = String(key)
  const prev = storages.get(k)
  if (prev) return prev
  const ref = new StorageRef(dtype, k, String(location), Number(numel))
  storages.set(k, ref)
  return ref
}

function storageDtype(typeName: string): string {
  const map: Record<string, string> = {
    FloatStorage: 'float32', DoubleStorage: 'float64', HalfStorage: 'float16', BFloat16Storage: 'bfloat16',
    LongStorage: 'int64', IntStorage: 'int32', ShortStorage: 'int16', CharStorage: 'int8', ByteStorage: 'uint8',
    BoolStorage: 'bool',
  }
  return map[typeName]!
}

/** Widen a raw storage to float64 (exactly: every float16/bfloat16/float32 value is a float64). */
export function decodeStorage(raw: Uint8Array, s: StorageRef, littleEndian: boolean, file: string): Float64Array {
  const size = ELEMENT_SIZE[s.dtype]
  if (!size) throw new ModelError(`unsupported tensor dtype ${s.dtype}`, { where: file })
  if (raw.length < s.numel * size)
    throw new ModelError(`the archive is truncated or corrupt: storage '${s.key}' has ${raw.length} bytes, needs ${s.numel * size} (${s.numel} × ${s.dtype})`, { where: file })
  return decodeElements(raw, s.dtype, s.numel, littleEndian)
}

export function decodeElements(raw: Uint8Array, dtype: string, n: number, littleEndian = true): Float64Array {
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength)
  const out = new Float64Array(n)
  const le = littleEndian
  switch (dtype) {
    case 'float32':
      for (let i = 0; i < n; i++) out[i] = v.getFloat32(i * 4, le)
      break
    case 'float64':
      for (let i = 0; i < n; i++) out[i] = v.getFloat64(i * 8, le)
      break
    case 'float16':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(v.getUint16(i * 2, le))
      break
    case 'bfloat16': {
      const buf = new DataView(new ArrayBuffer(4))
      for (let i = 0; i < n; i++) {
        buf.setUint32(0, v.getUint16(i * 2, le) << 16)
        out[i] = buf.getFloat32(0)
      }
      break
    }
    case 'int64':
      for (let i = 0; i < n; i++) out[i] = Number(v.getBigInt64(i * 8, le))
      break
    case 'int32':
      for (let i = 0; i < n; i++) out[i] = v.getInt32(i * 4, le)
      break
    case 'int16':
      for (let i = 0; i < n; i++) out[i] = v.getInt16(i * 2, le)
      break
    case 'int8':
      for (let i = 0; i < n; i++) out[i] = v.getInt8(i)
      break
    case 'uint8':
    case 'bool':
      for (let i = 0; i < n; i++) out[i] = v.getUint8(i)
      break
    default:
      throw new Error(`unknown dtype ${dtype}`)
  }
  return out
}

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1
  const exp = (h >> 10) & 0x1f
  const frac = h & 0x3ff
  if (exp === 0) return sign * frac * 2 ** -24
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY
  return sign * (1 + frac / 1024) * 2 ** (exp - 15)
}

/** Copy a (possibly strided, offset) view into a contiguous row-major tensor. */
export function gather(ref: TensorRef, storage: Float64Array, name: string, file: string): Tensor {
  const { shape, stride, offset } = ref
  const numel = shape.reduce((a, b) => a * b, 1)
  if (shape.some((d) => d < 0) || stride.some((s) => s < 0) || offset < 0)
    throw new ModelError(`tensor '${name}' has a negative size, stride or offset`, { where: file })
  let last = offset
  for (let d = 0; d < shape.length; d++) last += (shape[d]! - 1) * stride[d]!
  if (numel > 0 && last >= storage.length)
    throw new ModelError(`tensor '${name}' reaches element ${last} of a storage with ${storage.length} elements`, {
      where: file,
      hint: 'the archive is corrupt',
    })
  const data = new Float64Array(numel)
  const contiguous = stride.every((s, d) => shape[d] === 1 || s === shape.slice(d + 1).reduce((a, b) => a * b, 1))
  if (contiguous) {
    data.set(storage.subarray(offset, offset + numel))
  } else {
    const idx = new Array<number>(shape.length).fill(0)
    for (let i = 0; i < numel; i++) {
      let p = offset
      for (let d = 0; d < shape.length; d++) p += idx[d]! * stride[d]!
      data[i] = storage[p]!
      for (let d = shape.length - 1; d >= 0; d--) {
        if (++idx[d]! < shape[d]!) break
        idx[d] = 0
      }
    }
  }
  return { shape: [...shape], data }
}

import { inflateRawSync } from 'node:zlib'
import { ModelError } from '../errors/base.ts'

/** One member of a ZIP archive, as its central directory describes it. */
export type ZipEntry = {
  name: string
  /** 0 = stored, 8 = deflate */
  method: number
  crc32: number
  compressedSize: number
  size: number
  localHeaderOffset: number
}

export type ZipArchive = {
  entries: Map<string, ZipEntry>
  /** The member's bytes (inflated if needed, CRC-checked). Throws ModelError if it is missing or damaged. */
  read(name: string): Uint8Array
  has(name: string): boolean
}

const EOCD = 0x06054b50
const ZIP64_LOCATOR = 0x07064b50
const ZIP64_EOCD = 0x06064b50
const CENTRAL = 0x02014b50
const LOCAL = 0x04034b50

/** True when the bytes start like a ZIP archive (a local file header or an empty archive). */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5) && (bytes[3] === 4 || bytes[3] === 6)
}

/**
 * A minimal ZIP reader: the central directory (ZIP64 included), stored and deflated members. Enough for
 * the archives torch.save / torch.jit.save write. `file` names the archive in errors.
 */
export function readZip(bytes: Uint8Array, file: string): ZipArchive {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const damaged = (what: string) =>
    new ModelError(`the archive is truncated or corrupt: ${what}`, {
      where: file,
      hint: 'the file is incomplete or damaged; copy or save it again',
    })
  const u16 = (o: number) => {
    if (o + 2 > bytes.length) throw damaged('a header runs past the end of the file')
    return view.getUint16(o, true)
  }
  const u32 = (o: number) => {
    if (o + 4 > bytes.length) throw damaged('a header runs past the end of the file')
    return view.getUint32(o, true)
  }
  const u64 = (o: number) => {
    if (o + 8 > bytes.length) throw damaged('a header runs past the end of the file')
    const v = view.getBigUint64(o, true)
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw damaged('a 64-bit size is out of range')
    return Number(v)
  }

  // The end-of-central-directory record sits in the last 22 + 65535 bytes.
  let eocd = -1
  for (let o = bytes.length - 22; o >= Math.max(0, bytes.length - 22 - 0xffff); o--) {
    if (view.getUint32(o, true) === EOCD) {
      eocd = o
      break
    }
  }
  if (eocd < 0) {
    throw new ModelError('the archive is truncated or corrupt: no end-of-central-directory record', {
      where: file,
      hint: bytes.length ? 'the end of the file is missing; copy or save it again' : 'the file is empty',
    })
  }
  let count = u16(eocd + 10)
  let cdSize = u32(eocd + 12)
  let cdOffset = u32(eocd + 16)
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20
    if (loc < 0 || u32(loc) !== ZIP64_LOCATOR) throw damaged('a ZIP64 archive without its locator')
    const z = u64(loc + 8)
    if (u32(z) !== ZIP64_EOCD) throw damaged('a bad ZIP64 end-of-central-directory record')
    count = u64(z + 32)
    cdSize = u64(z + 40)
    cdOffset = u64(z + 48)
  }
  if (cdOffset + cdSize > bytes.length) throw damaged('the central directory runs past the end of the file')

  const entries = new Map<string, ZipEntry>()
  const decoder = new TextDecoder()
  let p = cdOffset
  for (let i = 0; i < count; i++) {
    if (u32(p) !== CENTRAL) throw damaged(`central directory entry ${i} has a bad signature`)
    const method = u16(p + 10)
    const crc32 = u32(p + 16)
    let compressedSize = u32(p + 20)
    let size = u32(p + 24)
    const nameLen = u16(p + 28)
    const extraLen = u16(p + 30)
    const commentLen = u16(p + 32)
    let localHeaderOffset = u32(p + 42)
    if (p + 46 + nameLen + extraLen > bytes.length) throw damaged('a central directory entry runs past the end of the file')
    const name = decoder.decode(bytes.subarray(p + 46, p + 46 + nameLen))
    // ZIP64 extended information: the 64-bit values appear only for the fields that are saturated.
    let e = p + 46 + nameLen
    const end = e + extraLen
    while (e + 4 <= end) {
      const id = u16(e)
      const len = u16(e + 2)
      if (id === 0x0001) {
        let q = e + 4
        if (size === 0xffffffff) (size = u64(q)), (q += 8)
        if (compressedSize === 0xffffffff) (compressedSize = u64(q)), (q += 8)
        if (localHeaderOffset === 0xffffffff) (localHeaderOffset = u64(q)), (q += 8)
      }
      e += 4 + len
    }
    entries.set(name, { name, method, crc32, compressedSize, size, localHeaderOffset })
    p += 46 + nameLen + extraLen + commentLen
  }

  const read = (name: string): Uint8Array => {
    const entry = entries.get(name)
    if (!entry) throw new ModelError(`the archive has no member '${name}'`, { where: file, hint: 'is this a file written by torch.save?' })
    const o = entry.localHeaderOffset
    if (u32(o) !== LOCAL) throw damaged(`member '${name}' has a bad local header`)
    const start = o + 30 + u16(o + 26) + u16(o + 28)
    const stop = start + entry.compressedSize
    if (stop > bytes.length) throw damaged(`member '${name}' runs past the end of the file`)
    const raw = bytes.subarray(start, stop)
    let data: Uint8Array
    if (entry.method === 0) data = raw
    else if (entry.method === 8) {
      try {
        data = new Uint8Array(inflateRawSync(raw))
      } catch (cause) {
        throw new ModelError(`the archive is truncated or corrupt: member '${name}' does not inflate`, { where: file, cause })
      }
    } else {
      throw new ModelError(`member '${name}' uses ZIP compression method ${entry.method}`, {
        where: file,
        hint: 'only stored and deflated members are supported (what torch.save writes)',
      })
    }
    if (data.length !== entry.size) throw damaged(`member '${name}' has ${data.length} bytes, the directory says ${entry.size}`)
    if (crc32(data) !== entry.crc32) throw damaged(`member '${name}' fails its CRC-32 check`)
    return data
  }
  return { entries, read, has: (name) => entries.has(name) }
}

let table: Uint32Array | undefined
export function crc32(data: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256)
    for (let n = 0; n < 256; n++) {
      let c = n
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
      table[n] = c >>> 0
    }
  }
  let c = 0xffffffff
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

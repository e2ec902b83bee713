import type { ModelError } from '../../errors/base.ts'

export type Corrupt = (what: string) => ModelError

/** The pickle's bytes and a read position: fixed-width little-endian integers, lengths, text lines. */
export class PickleBytes {
  private readonly view: DataView
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
    private readonly corrupt: Corrupt,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }
  need(n: number) {
    if (n < 0 || this.pos + n > this.bytes.length) throw this.corrupt(`it ends early (at byte ${this.bytes.length}, needed ${this.pos + n})`)
  }
  u8(): number {
    this.need(1)
    return this.bytes[this.pos++]!
  }
  u16(): number {
    this.need(2)
    this.pos += 2
    return this.view.getUint16(this.pos - 2, true)
  }
  i32(): number {
    this.need(4)
    this.pos += 4
    return this.view.getInt32(this.pos - 4, true)
  }
  u32(): number {
    this.need(4)
    this.pos += 4
    return this.view.getUint32(this.pos - 4, true)
  }
  /** An 8-byte length, refused when larger than the file. */
  u64(): number {
    this.need(8)
    const v = this.view.getBigUint64(this.pos, true)
    this.pos += 8
    if (v > BigInt(this.bytes.length)) throw this.corrupt(`a length of ${v} bytes is larger than the file`)
    return Number(v)
  }
  /** BINFLOAT's big-endian double. */
  f64be(): number {
    this.need(8)
    this.pos += 8
    return this.view.getFloat64(this.pos - 8, false)
  }
  take(n: number): Uint8Array {
    this.need(n)
    this.pos += n
    return this.bytes.subarray(this.pos - n, this.pos)
  }
  /** A text argument up to its end of line (latin-1), the newline skipped. */
  line(): string {
    const start = this.pos
    while (this.pos < this.bytes.length && this.bytes[this.pos] !== 0x0a) this.pos++
    if (this.pos >= this.bytes.length) throw this.corrupt('a text argument has no end of line')
    const s = latin1(this.bytes.subarray(start, this.pos))
    this.pos++
    return s
  }
}

export function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0
  let v = 0n
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!)
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length)
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v
}

export function parseIntText(s: string, corrupt: Corrupt): number | bigint {
  if (!/^[-+]?\d+$/.test(s.trim())) throw corrupt(`bad integer '${s}'`)
  const v = BigInt(s.trim())
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v
}

export function latin1(b: Uint8Array): string {
  let s = ''
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192))
  return s
}

export function unquote(s: string): string {
  const q = s[0]
  if ((q === "'" || q === '"') && s.endsWith(q)) s = s.slice(1, -1)
  return s.replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_, e: string) =>
    e[0] === 'x' ? String.fromCharCode(Number.parseInt(e.slice(1), 16)) : e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e,
  )
}


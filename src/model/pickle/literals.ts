import { decodeLong, latin1, parseIntText, unquote, type Corrupt, type PickleBytes } from './byteReader.ts'

/** What readLiteral returns for an opcode that does not push plain data. */
export const NOT_LITERAL = Symbol('not a literal opcode')

const utf8 = new TextDecoder('utf-8', { fatal: false })

/**
 * The value a plain-data opcode pushes (None, booleans, integers, floats, strings, bytes), read from `r`;
 * NOT_LITERAL for every other opcode (containers, memo, globals, calls: the opcode machine's own).
 */
export function readLiteral(op: number, r: PickleBytes, corrupt: Corrupt): unknown {
  switch (op) {
    case 0x4e: // NONE 'N'
      return null
    case 0x88: // NEWTRUE
      return true
    case 0x89: // NEWFALSE
      return false
    case 0x4a: // BININT 'J'
      return r.i32()
    case 0x4b: // BININT1 'K'
      return r.u8()
    case 0x4d: // BININT2 'M'
      return r.u16()
    case 0x8a: // LONG1
      return decodeLong(r.take(r.u8()))
    case 0x8b: {
      // LONG4
      const n = r.i32()
      if (n < 0) throw corrupt('negative LONG4 length')
      return decodeLong(r.take(n))
    }
    case 0x49: {
      // INT 'I'
      const s = r.line()
      return s === '01' ? true : s === '00' ? false : parseIntText(s, corrupt)
    }
    case 0x4c: // LONG 'L'
      return parseIntText(r.line().replace(/L$/, ''), corrupt)
    case 0x47: // BINFLOAT 'G' (big-endian)
      return r.f64be()
    case 0x46: // FLOAT 'F'
      return Number.parseFloat(r.line())
    case 0x58: // BINUNICODE 'X'
      return utf8.decode(r.take(r.u32()))
    case 0x8c: // SHORT_BINUNICODE
      return utf8.decode(r.take(r.u8()))
    case 0x8d: // BINUNICODE8
      return utf8.decode(r.take(r.u64()))
    case 0x56: // UNICODE 'V' (raw-unicode-escape)
      return r.line().replace(/\\u([0-9a-fA-F]{4})/g, (_, h) => String.fromCharCode(Number.parseInt(h, 16)))
    case 0x54: {
      // BINSTRING 'T'
      const n = r.i32()
      if (n < 0) throw corrupt('negative BINSTRING length')
      return latin1(r.take(n))
    }
    case 0x55: // SHORT_BINSTRING 'U'
      return latin1(r.take(r.u8()))
    case 0x53: // STRING 'S'
      return unquote(r.line())
    case 0x42: // BINBYTES 'B'
      return r.take(r.u32()).slice()
    case 0x43: // SHORT_BINBYTES 'C'
      return r.take(r.u8()).slice()
    case 0x8e: // BINBYTES8
    case 0x96: // BYTEARRAY8
      return r.take(r.u64()).slice()
  }
  return NOT_LITERAL
}

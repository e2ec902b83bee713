import { describe, expect, test } from 'bun:test'
import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { ModelError } from '../../src/errors/base.ts'
import { readPt, readPtBytes } from '../../src/model/readPt.ts'
import { PyDict, PyObject, StorageRef, TensorRef, unpickle } from '../../src/model/unpickle.ts'

const FIX = join(import.meta.dir, '..', 'fixtures')
const PWNED = '/tmp/ml2sc_pwned'

/** A tiny pickle assembler: strings are opcodes/arguments as latin1, numbers are raw bytes. */
function pk(...parts: (string | number[])[]): Uint8Array {
  const out: number[] = [0x80, 2]
  for (const p of parts) {
    if (typeof p === 'string') for (const c of p) out.push(c.charCodeAt(0))
    else out.push(...p)
  }
  out.push(0x2e) // STOP
  return new Uint8Array(out)
}
const global = (m: string, n: string) => `c${m}\n${n}\n`
const ustr = (s: string) => {
  const b = new TextEncoder().encode(s)
  return [0x8c, b.length, ...b] // SHORT_BINUNICODE
}
const tuple1 = [0x85]
const REDUCE = 'R'

function refused(bytes: Uint8Array, name: string) {
  let err: unknown
  try {
    unpickle(bytes, { file: 'evil.pt' })
  } catch (e) {
    err = e
  }
  expect(err).toBeInstanceOf(ModelError)
  expect((err as ModelError).message).toContain(`'${name}'`)
  expect((err as ModelError).where).toBe('evil.pt')
  expect((err as ModelError).hint).toMatch(/state_dict/)
}

describe('a malicious .pt is refused and nothing runs', () => {
  test('malicious.pt (posix.system via __reduce__) is refused, naming the global', async () => {
    rmSync(PWNED, { force: true })
    const file = join(FIX, 'special', 'malicious.pt')
    let err: unknown
    try {
      await readPt(file)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ModelError)
    const e = err as ModelError
    expect(e.shortMessage).toBe("refused pickle global 'posix.system'")
    expect(e.where).toBe(file)
    expect(existsSync(PWNED)).toBe(false)
  })

  test.each([
    ['os', 'system'],
    ['posix', 'system'],
    ['nt', 'system'],
    ['builtins', 'eval'],
    ['builtins', 'exec'],
    ['builtins', 'getattr'],
    ['builtins', '__import__'],
    ['subprocess', 'Popen'],
    ['subprocess', 'check_output'],
    ['importlib', 'import_module'],
    ['runpy', '_run_code'],
    ['torch', 'load'],
    ['torch.serialization', 'load'],
    ['torch._utils', '_rebuild_meta_tensor_no_storage'],
    ['numpy.core.multiarray', '_reconstruct'],
    ['webbrowser', 'open'],
    ['pickle', 'loads'],
  ])('GLOBAL %s.%s is refused', (m, n) => {
    refused(pk(global(m, n), ustr('touch /tmp/ml2sc_pwned'), tuple1, REDUCE), `${m}.${n}`)
    expect(existsSync(PWNED)).toBe(false)
  })

  test('__builtin__ (protocol 2 spelling) is the builtins module', () => {
    refused(pk(global('__builtin__', 'eval'), ustr('1'), tuple1, REDUCE), 'builtins.eval')
  })

  test('STACK_GLOBAL (protocol 4) goes through the same allowlist', () => {
    refused(pk(ustr('os'), ustr('system'), [0x93], ustr('id'), tuple1, REDUCE), 'os.system')
  })

  test('an allowed class cannot be turned into a call of a refused one', () => {
    // REDUCE of a storage type (torch.FloatStorage(...)) is not a constructor we honour
    refused(pk(global('torch', 'FloatStorage'), ustr('x'), tuple1, REDUCE), 'torch.FloatStorage')
  })

  test("an activation a module keeps as an attribute (F.relu, F.gelu) is a name only: calling it is refused", () => {
    for (const [m, n] of [['torch.nn.functional', 'relu'], ['torch.nn.functional', 'gelu'], ['torch._C._nn', 'gelu']] as const) {
      expect(() => unpickle(pk(global(m, n)), { file: 'ok.pt' })).not.toThrow()
      let err: unknown
      try {
        unpickle(pk(global(m, n), '(', ustr('x'), 't', REDUCE), { file: 'evil.pt' })
      } catch (e) {
        err = e
      }
      expect((err as ModelError).shortMessage).toBe(`refused pickle call of '${m}.${n}'`)
    }
  })

  test('EXT opcodes (the copyreg extension registry) are refused', () => {
    expect(() => unpickle(pk([0x82, 1]), { file: 'evil.pt' })).toThrow(/refused pickle extension/)
  })

  test('user classes become inert records: no __reduce__, __setstate__ or __init__ runs', () => {
    // __main__.Net() via NEWOBJ then BUILD with a dict: recorded, never instantiated
    const v = unpickle(pk(global('__main__', 'Net'), ')', [0x81], '}', ustr('fc1'), 'K', [7], 's', 'b'), { file: 'm.pt' }).value
    expect(v).toBeInstanceOf(PyObject)
    expect((v as PyObject).cls).toBe('__main__.Net')
    expect(((v as PyObject).state as PyDict).get('fc1')).toBe(7)
  })
})

describe('the restricted unpickler reads what torch.save writes', () => {
  test('containers, numbers, strings and memo', () => {
    const bytes = pk(
      '}', 'q', [0],
      '(',
      ustr('a'), 'K', [1],
      ustr('b'), 'J', [0xff, 0xff, 0xff, 0xff], // -1
      ustr('c'), 'G', [0x3f, 0xf8, 0, 0, 0, 0, 0, 0], // 1.5
      ustr('d'), ']', '(', 'N', [0x88], [0x89], 'e',
      ustr('e'), [0x8a, 3, 0x00, 0x80, 0x00], // LONG1 32768
      ustr('g'), [0x8a, 2, 0x00, 0x80], // LONG1 -32768 (two's complement)
      ustr('f'), 'h', [0], // BINGET 0: the dict itself
      'u',
    )
    const v = unpickle(bytes, { file: 'x' }).value as PyDict
    expect(v.get('a')).toBe(1)
    expect(v.get('b')).toBe(-1)
    expect(v.get('c')).toBe(1.5)
    expect(v.get('d')).toEqual([null, true, false])
    expect(v.get('e')).toBe(32768)
    expect(v.get('g')).toBe(-32768)
    expect(v.get('f')).toBe(v)
  })

  test('the text (protocol 0) and binary forms of plain data', () => {
    const u32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24]
    const bytes = pk(
      '(',
      'I42\n', 'I01\n', 'I00\n', 'L-7L\n', 'F0.25\n', // INT, INT as booleans, LONG, FLOAT
      "S'a\\x41\\n'\n", 'Vh\\u00e9\n', // STRING (quoted, escaped), UNICODE (raw-unicode-escape)
      'T', u32(2), 'hi', 'U', [2], 'yo', // BINSTRING, SHORT_BINSTRING
      'B', u32(2), [1, 2], 'C', [1], [3], [0x8e, ...u32(1), 0, 0, 0, 0], [9], // BINBYTES, SHORT_BINBYTES, BINBYTES8
      'X', u32(2), 'ok', [0x8d, ...u32(2), 0, 0, 0, 0], 'no', // BINUNICODE, BINUNICODE8
      'M', [0x34, 0x12], // BININT2
      [0x8b], u32(1), [0xff], // LONG4 -1
      't',
    )
    expect(unpickle(bytes, { file: 'x' }).value).toEqual([
      42, true, false, -7, 0.25, 'aA\n', 'hé', 'hi', 'yo', new Uint8Array([1, 2]), new Uint8Array([3]), new Uint8Array([9]), 'ok', 'no', 0x1234, -1,
    ])
  })

  test('tensors are rebuilt from persistent storages without touching torch', () => {
    const bytes = pk(
      global('torch._utils', '_rebuild_tensor_v2'),
      '(',
      '(', ustr('storage'), global('torch', 'FloatStorage'), ustr('0'), ustr('cpu'), 'K', [6], 't', 'Q',
      'K', [0], 'K', [2], 'K', [3], [0x86], 'K', [3], 'K', [1], [0x86], [0x89],
      global('collections', 'OrderedDict'), ')', 'R',
      't', 'R',
    )
    const v = unpickle(bytes, {
      file: 'x',
      persistentLoad: (pid) => {
        const [kind, type, key, location, numel] = pid as [string, { name: string }, string, string, number]
        expect([kind, type.name, key, location, numel]).toEqual(['storage', 'FloatStorage', '0', 'cpu', 6])
        return new StorageRef('float32', key, location, numel)
      },
    }).value as TensorRef
    expect(v).toBeInstanceOf(TensorRef)
    expect(v.shape).toEqual([2, 3])
    expect(v.stride).toEqual([3, 1])
    expect(v.storage.dtype).toBe('float32')
    // a persistent loader that returns something else → a clear ModelError, not a crash
    expect(() => unpickle(bytes, { file: 'x', persistentLoad: () => 'nope' })).toThrow(ModelError)
  })

  test('truncated or garbage pickles give ModelError', () => {
    const good = pk('}', ustr('k'), 'K', [1], 's')
    for (let cut = 1; cut < good.length; cut++) expect(() => unpickle(good.subarray(0, cut), { file: 'x' })).toThrow(ModelError)
    expect(() => unpickle(new Uint8Array([0x80, 2, 0xff]), { file: 'x' })).toThrow(/unknown opcode 0xff/)
    expect(() => unpickle(new Uint8Array([0x80, 2, 0x68, 9, 0x2e]), { file: 'x' })).toThrow(/memo key 9/)
  })
})

/** A legacy (non-zip) torch.save stream around one main pickle: magic, version, sys_info, main, keys. */
function legacy(main: Uint8Array): Uint8Array {
  const magic = pk([0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19])
  const parts = [magic, pk('M', [0xe9, 0x03]), pk('}'), main, pk(']')]
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) out.set(p, o), (o += p.length)
  return out
}

describe('hostile files through readPt', () => {
  test('a refused global inside a legacy-format .pt', () => {
    rmSync(PWNED, { force: true })
    expect(() => readPtBytes(legacy(pk(global('posix', 'system'), ustr('touch /tmp/ml2sc_pwned'), tuple1, REDUCE)), 'old.pt')).toThrow(
      "refused pickle global 'posix.system'",
    )
    expect(existsSync(PWNED)).toBe(false)
  })

  test('a module that contains itself is refused, not a stack overflow', () => {
    const main = pk(
      global('torch.nn.modules.container', 'Sequential'), ')', [0x81], 'q', [0],
      '}', ustr('_modules'), global('collections', 'OrderedDict'), ')', 'R', ustr('0'), 'h', [0], 's', 's', 'b',
    )
    expect(() => readPtBytes(legacy(main), 'cycle.pt')).toThrow(/cyclic/)
  })

  test('the legacy container itself is checked (magic number)', () => {
    expect(() => readPtBytes(pk('}'), 'plain.pkl')).toThrow(/magic number/)
  })
})

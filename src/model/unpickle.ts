import { ModelError } from '../errors/base.ts'

/**
 * A restricted pickle reader for the pickles torch.save and torch.jit.save write (protocol 2, plus the
 * opcodes of protocols 0–5 that plain data uses). It never executes anything: a GLOBAL is resolved
 * against an allowlist, the few allowed callables (`torch._utils._rebuild_tensor_v2`,
 * `collections.OrderedDict`, `builtins.set`, …) are re-implemented here as data constructors, and
 * classes (nn.Module subclasses, TorchScript `__torch__.*` modules, a user's own `__main__.Net`) become
 * inert records `{ cls, args, state }`. Any other global (`posix.system`, `builtins.eval`, …) is refused
 * with a ModelError naming it.
 */

/** A reference to a Python global that the allowlist accepted. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly role: 'function' | 'class' | 'storage' | 'dtype',
  ) {}
  get qualname(): string {
    return `${this.module}.${this.name}`
  }
}

/** A dict or OrderedDict, keeping insertion order; `attrs` holds what BUILD set on it (OrderedDict._metadata). */
export class PyDict {
  readonly map = new Map<unknown, unknown>()
  attrs?: unknown
  constructor(readonly cls = 'builtins.dict') {}
  get(key: unknown): unknown {
    return this.map.get(key)
  }
}

/** An instance of a class the pickle names: never constructed, only recorded. */
export class PyObject {
  /** What BUILD gave it (for an nn.Module: its __dict__). */
  state?: unknown
  /** SETITEM(S)/APPEND(S) applied to the object itself. */
  items?: Map<unknown, unknown>
  list?: unknown[]
  constructor(
    readonly cls: string,
    readonly args: unknown[],
  ) {}
}

/** A storage as a persistent id names it; the archive reader loads the bytes. */
export class StorageRef {
  constructor(
    readonly dtype: string,
    readonly key: string,
    readonly location: string,
    readonly numel: number,
  ) {}
}

/** A tensor view onto a storage, as torch._utils._rebuild_tensor_v2 describes it. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
    readonly requiresGrad: boolean,
  ) {}
}

export type UnpickleOptions = {
  /** The file being read, for error messages. */
  file: string
  /** Which member of the archive (e.g. `archive/data.pkl`), for error messages. */
  member?: string
  /** Resolve BINPERSID/PERSID ids (torch: `('storage', FloatStorage, key, location, numel)`). */
  persistentLoad?: (pid: unknown) => unknown
  /** Where to start reading (a legacy .pt holds several pickles back to back). */
  offset?: number
}

/** torch storage classes → dtype. */
const STORAGE_TYPES: Record<string, string> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
}

const DTYPES = new Set([
  'float32', 'float', 'float64', 'double', 'float16', 'half', 'bfloat16', 'int64', 'long', 'int32', 'int',
  'int16', 'short', 'int8', 'uint8', 'bool',
])

/** Allowed callables, re-implemented as pure data constructors. */
const FUNCTIONS = new Set([
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'torch._tensor._rebuild_from_type_v2',
  'collections.OrderedDict',
  'builtins.set',
  'builtins.frozenset',
  'builtins.list',
  'builtins.tuple',
  'builtins.dict',
  'builtins.bytearray',
  'torch.device',
  'torch.Size',
  'torch.jit._pickle.build_intlist',
  'torch.jit._pickle.build_doublelist',
  'torch.jit._pickle.build_boollist',
  '_codecs.encode',
  'copyreg._reconstructor',
])

/**
 * Module roots whose globals are always refused, even class-like ones: they reach the OS, the
 * interpreter or the import system. (Nothing is ever executed here anyway; refusing them early gives
 * the clearest message for a hostile file.)
 */
const DENIED_ROOTS = new Set([
  'os', 'posix', 'nt', 'subprocess', 'sys', 'builtins', 'shutil', 'socket', 'importlib', 'pickle', '_pickle',
  'marshal', 'ctypes', 'runpy', 'code', 'codeop', 'pty', 'webbrowser', 'io', '_io', 'tempfile', 'pathlib',
  'platform', 'multiprocessing', 'threading', '_thread', 'signal', 'asyncio', 'http', 'urllib', 'ftplib',
  'smtplib', 'telnetlib', 'operator', 'functools', 'types', 'inspect', 'posixpath', 'ntpath', 'glob',
  'commands', 'popen2', 'timeit', 'pdb', 'bdb', 'cProfile', 'profile', 'trace', 'site', 'zipimport',
  'pkgutil', 'imp', 'dill', 'joblib', 'requests', 'base64', 'codecs', 'zlib', 'gzip', 'bz2', 'lzma',
  'tarfile', 'zipfile', 'sqlite3', 'ssl', 'select', 'selectors', 'mmap', 'resource', 'pwd', 'grp',
  'fcntl', 'termios', 'tty', 'getpass', 'gc', 'weakref', 'copyreg', 'copy', 'abc', 'contextlib', 'atexit',
])

const MODULE_ALIASES: Record<string, string> = { __builtin__: 'builtins', copy_reg: 'copyreg' }

function refusalHint(): string {
  return (
    'a pickle can run code when torch.load reads it, so ml2sc only accepts tensors, containers and ' +
    'nn.Module records; if you trust the file, load it in Python and re-save the weights with ' +
    'torch.save(model.state_dict(), path) or as .safetensors'
  )
}

/** Decide what a GLOBAL may refer to; throw for anything outside the allowlist. */
export function resolveGlobal(rawModule: string, name: string, file: string): PyGlobal {
  const module = MODULE_ALIASES[rawModule] ?? rawModule
  const qualname = `${module}.${name}`
  if (FUNCTIONS.has(qualname)) return new PyGlobal(module, name, 'function')
  if (module === 'torch' && STORAGE_TYPES[name]) return new PyGlobal(module, name, 'storage')
  if (module === 'torch' && DTYPES.has(name)) return new PyGlobal(module, name, 'dtype')
  const root = module.split('.')[0]!
  const classLike = /^_*[A-Z]/.test(name) && /^[\w.]+$/.test(module) && /^\w+$/.test(name)
  const torchOk =
    module.startsWith('__torch__') ||
    module === 'torch.nn.modules' ||
    module.startsWith('torch.nn.modules.') ||
    module === 'torch.nn.parameter' ||
    module.startsWith('torch.nn.parallel.') ||
    module === 'torch.nn'
  if (classLike && (torchOk || (!DENIED_ROOTS.has(root) && root !== 'torch'))) return new PyGlobal(module, name, 'class')
  throw new ModelError(`refused pickle global '${qualname}'`, {
    where: file,
    hint: refusalHint(),
    details: rawModule !== module ? `written as '${rawModule} ${name}'` : undefined,
  })
}

/** Unpickle one pickle from `bytes`. Returns the value and the offset just after its STOP. */
export function unpickle(bytes: Uint8Array, opts: UnpickleOptions): { value: unknown; end: number } {
  const file = opts.file
  const where = file
  const inMember = opts.member ? `in ${opts.member}` : undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const utf8 = new TextDecoder('utf-8', { fatal: false })
  let pos = opts.offset ?? 0
  let stack: unknown[] = []
  const metastack: unknown[][] = []
  const memo = new Map<number, unknown>()

  const corrupt = (what: string) =>
    new ModelError(`the pickle is truncated or corrupt: ${what}`, { where, hint: 'the file is incomplete or damaged; save it again', details: inMember })
  const need = (n: number) => {
    if (n < 0 || pos + n > bytes.length) throw corrupt(`it ends early (at byte ${bytes.length}, needed ${pos + n})`)
  }
  const u8 = () => (need(1), bytes[pos++]!)
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2, true))
  const i32 = () => (need(4), (pos += 4), view.getInt32(pos - 4, true))
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4, true))
  const u64 = () => {
    need(8)
    const v = view.getBigUint64(pos, true)
    pos += 8
    if (v > BigInt(bytes.length)) throw corrupt(`a length of ${v} bytes is larger than the file`)
    return Number(v)
  }
  const take = (n: number) => (need(n), (pos += n), bytes.subarray(pos - n, pos))
  const line = () => {
    const start = pos
    while (pos < bytes.length && bytes[pos] !== 0x0a) pos++
    if (pos >= bytes.length) throw corrupt('a text argument has no end of line')
    const s = latin1(bytes.subarray(start, pos))
    pos++
    return s
  }
  const pop = () => {
    if (stack.length === 0) throw corrupt('stack underflow')
    return stack.pop()
  }
  const top = () => {
    if (stack.length === 0) throw corrupt('stack underflow')
    return stack[stack.length - 1]
  }
  const popMark = () => {
    const items = stack
    const prev = metastack.pop()
    if (!prev) throw corrupt('MARK missing')
    stack = prev
    return items
  }
  const push = (v: unknown) => stack.push(v)

  const call = (fn: unknown, args: unknown[]): unknown => {
    if (!(fn instanceof PyGlobal)) throw corrupt(`a call of something that is not a global (${describe(fn)})`)
    if (fn.role === 'class') return new PyObject(fn.qualname, args)
    if (fn.role !== 'function')
      throw new ModelError(`refused pickle call of '${fn.qualname}'`, { where, hint: refusalHint() })
    return callFunction(fn.qualname, args, where)
  }

  for (;;) {
    const at = pos
    const op = u8()
    switch (op) {
      case 0x80: // PROTO
        u8()
        break
      case 0x95: // FRAME
        take(8)
        break
      case 0x2e: // STOP '.'
        if (stack.length !== 1) throw corrupt(`STOP with ${stack.length} values on the stack`)
        return { value: stack[0], end: pos }
      case 0x28: // MARK '('
        metastack.push(stack)
        stack = []
        break
      case 0x30: // POP '0'
        if (stack.length) pop()
        else popMark()
        break
      case 0x31: // POP_MARK '1'
        popMark()
        break
      case 0x32: // DUP '2'
        push(top())
        break
      case 0x4e: // NONE 'N'
        push(null)
        break
      case 0x88: // NEWTRUE
        push(true)
        break
      case 0x89: // NEWFALSE
        push(false)
        break
      case 0x4a: // BININT 'J'
        push(i32())
        break
      case 0x4b: // BININT1 'K'
        push(u8())
        break
      case 0x4d: // BININT2 'M'
        push(u16())
        break
      case 0x8a: // LONG1
        push(decodeLong(take(u8())))
        break
      case 0x8b: {
        // LONG4
        const n = i32()
        if (n < 0) throw corrupt('negative LONG4 length')
        push(decodeLong(take(n)))
        break
      }
      case 0x49: {
        // INT 'I'
        const s = line()
        push(s === '01' ? true : s === '00' ? false : parseIntText(s, corrupt))
        break
      }
      case 0x4c: // LONG 'L'
        push(parseIntText(line().replace(/L$/, ''), corrupt))
        break
      case 0x47: // BINFLOAT 'G' (big-endian)
        need(8)
        push(view.getFloat64(pos, false))
        pos += 8
        break
      case 0x46: // FLOAT 'F'
        push(Number.parseFloat(line()))
        break
      case 0x58: // BINUNICODE 'X'
        push(utf8.decode(take(u32())))
        break
      case 0x8c: // SHORT_BINUNICODE
        push(utf8.decode(take(u8())))
        break
      case 0x8d: // BINUNICODE8
        push(utf8.decode(take(u64())))
        break
      case 0x56: // UNICODE 'V' (raw-unicode-escape)
        push(line().replace(/\\u([0-9a-fA-F]{4})/g, (_, h) => String.fromCharCode(Number.parseInt(h, 16))))
        break
      case 0x54: {
        // BINSTRING 'T'
        const n = i32()
        if (n < 0) throw corrupt('negative BINSTRING length')
        push(latin1(take(n)))
        break
      }
      case 0x55: // SHORT_BINSTRING 'U'
        push(latin1(take(u8())))
        break
      case 0x53: // STRING 'S'
        push(unquote(line()))
        break
      case 0x42: // BINBYTES 'B'
        push(take(u32()).slice())
        break
      case 0x43: // SHORT_BINBYTES 'C'
        push(take(u8()).slice())
        break
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        push(take(u64()).slice())
        break
      case 0x7d: // EMPTY_DICT '}'
        push(new PyDict())
        break
      case 0x64: {
        // DICT 'd'
        const items = popMark()
        const d = new PyDict()
        for (let i = 0; i + 1 < items.length; i += 2) d.map.set(items[i], items[i + 1])
        push(d)
        break
      }
      case 0x5d: // EMPTY_LIST ']'
        push([])
        break
      case 0x6c: // LIST 'l'
        push(popMark())
        break
      case 0x29: // EMPTY_TUPLE ')'
        push([])
        break
      case 0x74: // TUPLE 't'
        push(popMark())
        break
      case 0x85: // TUPLE1
        push([pop()])
        break
      case 0x86: {
        // TUPLE2
        const b = pop()
        push([pop(), b])
        break
      }
      case 0x87: {
        // TUPLE3
        const c = pop()
        const b = pop()
        push([pop(), b, c])
        break
      }
      case 0x8f: // EMPTY_SET
        push(new Set())
        break
      case 0x90: {
        // ADDITEMS
        const items = popMark()
        const s = top()
        if (!(s instanceof Set)) throw corrupt('ADDITEMS on something that is not a set')
        for (const v of items) s.add(v)
        break
      }
      case 0x91: // FROZENSET
        push(new Set(popMark()))
        break
      case 0x61: {
        // APPEND 'a'
        const v = pop()
        appendTo(top(), [v], corrupt)
        break
      }
      case 0x65: {
        // APPENDS 'e'
        const items = popMark()
        appendTo(top(), items, corrupt)
        break
      }
      case 0x73: {
        // SETITEM 's'
        const v = pop()
        const k = pop()
        setItems(top(), [k, v], corrupt)
        break
      }
      case 0x75: {
        // SETITEMS 'u'
        const items = popMark()
        setItems(top(), items, corrupt)
        break
      }
      case 0x71: // BINPUT 'q'
        memo.set(u8(), top())
        break
      case 0x72: // LONG_BINPUT 'r'
        memo.set(u32(), top())
        break
      case 0x70: // PUT 'p'
        memo.set(parseIntText(line(), corrupt) as number, top())
        break
      case 0x94: // MEMOIZE
        memo.set(memo.size, top())
        break
      case 0x68: // BINGET 'h'
      case 0x6a: // LONG_BINGET 'j'
      case 0x67: {
        // GET 'g'
        const k = op === 0x68 ? u8() : op === 0x6a ? u32() : (parseIntText(line(), corrupt) as number)
        if (!memo.has(k)) throw corrupt(`memo key ${k} is not set`)
        push(memo.get(k))
        break
      }
      case 0x63: {
        // GLOBAL 'c'
        const module = line()
        const name = line()
        push(resolveGlobal(module, name, where))
        break
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop()
        const module = pop()
        if (typeof module !== 'string' || typeof name !== 'string') throw corrupt('STACK_GLOBAL needs two strings')
        push(resolveGlobal(module, name, where))
        break
      }
      case 0x52: {
        // REDUCE 'R'
        const args = pop()
        const fn = pop()
        if (!Array.isArray(args)) throw corrupt('REDUCE arguments are not a tuple')
        push(call(fn, args))
        break
      }
      case 0x81: {
        // NEWOBJ
        const args = pop()
        const cls = pop()
        if (!Array.isArray(args)) throw corrupt('NEWOBJ arguments are not a tuple')
        push(newObject(cls, args, where, corrupt))
        break
      }
      case 0x92: {
        // NEWOBJ_EX
        pop() // kwargs
        const args = pop()
        const cls = pop()
        if (!Array.isArray(args)) throw corrupt('NEWOBJ_EX arguments are not a tuple')
        push(newObject(cls, args, where, corrupt))
        break
      }
      case 0x69: {
        // INST 'i'
        const g = resolveGlobal(line(), line(), where)
        push(call(g, popMark()))
        break
      }
      case 0x6f: {
        // OBJ 'o'
        const items = popMark()
        push(call(items[0], items.slice(1)))
        break
      }
      case 0x62: {
        // BUILD 'b'
        const state = pop()
        build(top(), state)
        break
      }
      case 0x51: {
        // BINPERSID 'Q'
        const pid = pop()
        if (!opts.persistentLoad) throw corrupt('a persistent id where none is expected')
        push(opts.persistentLoad(pid))
        break
      }
      case 0x50: {
        // PERSID 'P'
        const pid = line()
        if (!opts.persistentLoad) throw corrupt('a persistent id where none is expected')
        push(opts.persistentLoad(pid))
        break
      }
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
        throw new ModelError('refused pickle extension code (EXT opcode)', { where, hint: refusalHint() })
      default:
        throw corrupt(`unknown opcode 0x${op.toString(16).padStart(2, '0')} at byte ${at}`)
    }
  }
}

function newObject(cls: unknown, args: unknown[], where: string, corrupt: (w: string) => ModelError): unknown {
  if (!(cls instanceof PyGlobal)) throw corrupt(`NEWOBJ of something that is not a class (${describe(cls)})`)
  switch (cls.qualname) {
    case 'collections.OrderedDict':
      return new PyDict('collections.OrderedDict')
    case 'builtins.dict':
      return new PyDict()
    case 'builtins.set':
    case 'builtins.frozenset':
      return new Set()
    case 'builtins.list':
      return []
  }
  if (cls.role !== 'class') throw new ModelError(`refused pickle call of '${cls.qualname}'`, { where, hint: refusalHint() })
  return new PyObject(cls.qualname, args)
}

function callFunction(name: string, a: unknown[], where: string): unknown {
  const bad = (why: string) =>
    new ModelError(`the pickle calls ${name} with unexpected arguments: ${why}`, { where, hint: 'is this a file written by torch.save?' })
  switch (name) {
    case 'torch._utils._rebuild_tensor':
    case 'torch._utils._rebuild_tensor_v2': {
      const [storage, offset, size, stride, requiresGrad] = a
      if (!(storage instanceof StorageRef)) throw bad(`the storage is ${describe(storage)}`)
      if (typeof offset !== 'number' || !isIntList(size) || !isIntList(stride) || size.length !== stride.length)
        throw bad('offset, size or stride is malformed')
      return new TensorRef(storage, offset, size, stride, requiresGrad === true)
    }
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state':
      if (!(a[0] instanceof TensorRef)) throw bad(`the data is ${describe(a[0])}`)
      return a[0]
    case 'torch._tensor._rebuild_from_type_v2': {
      // (func, type, args, state): the tensor is func(*args); the Tensor/Parameter subclass is dropped
      const [fn, , args] = a
      if (!(fn instanceof PyGlobal) || fn.role !== 'function' || !Array.isArray(args)) throw bad('malformed')
      return callFunction(fn.qualname, args, where)
    }
    case 'collections.OrderedDict':
    case 'builtins.dict': {
      const d = new PyDict(name === 'builtins.dict' ? 'builtins.dict' : 'collections.OrderedDict')
      const src = a[0]
      if (Array.isArray(src)) for (const kv of src) if (Array.isArray(kv) && kv.length === 2) d.map.set(kv[0], kv[1])
      if (src instanceof PyDict) for (const [k, v] of src.map) d.map.set(k, v)
      return d
    }
    case 'builtins.set':
    case 'builtins.frozenset':
      return new Set(Array.isArray(a[0]) ? a[0] : a[0] instanceof Set ? a[0] : [])
    case 'builtins.list':
    case 'builtins.tuple':
      return Array.isArray(a[0]) ? [...a[0]] : a[0] instanceof Set ? [...a[0]] : []
    case 'builtins.bytearray':
      return a[0] instanceof Uint8Array ? a[0] : new Uint8Array()
    case 'torch.device':
      return String(a[0]) + (a.length > 1 && a[1] !== null ? `:${a[1]}` : '')
    case 'torch.Size':
    case 'torch.jit._pickle.build_intlist': // TorchScript's typed lists (e.g. a Conv's _reversed_padding_repeated_twice)
    case 'torch.jit._pickle.build_doublelist':
    case 'torch.jit._pickle.build_boollist':
      return Array.isArray(a[0]) ? [...a[0]] : []
    case '_codecs.encode': {
      if (typeof a[0] !== 'string') throw bad('expected a string')
      const s = a[0]
      const out = new Uint8Array(s.length)
      for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff
      return out
    }
    case 'copyreg._reconstructor': {
      // (cls, base, state): object.__new__(cls) (+ base.__init__(obj, state) for builtin bases)
      const [cls] = a
      if (!(cls instanceof PyGlobal) || cls.role !== 'class') throw bad(`the class is ${describe(cls)}`)
      return new PyObject(cls.qualname, [])
    }
  }
  throw new ModelError(`refused pickle call of '${name}'`, { where, hint: refusalHint() })
}

function appendTo(target: unknown, items: unknown[], corrupt: (w: string) => ModelError) {
  if (Array.isArray(target)) target.push(...items)
  else if (target instanceof PyObject) (target.list ??= []).push(...items)
  else if (target instanceof Set) for (const v of items) target.add(v)
  else throw corrupt(`APPEND to ${describe(target)}`)
}

function setItems(target: unknown, items: unknown[], corrupt: (w: string) => ModelError) {
  if (items.length % 2) throw corrupt('SETITEMS with an odd number of values')
  let map: Map<unknown, unknown>
  if (target instanceof PyDict) map = target.map
  else if (target instanceof PyObject) map = target.items ??= new Map()
  else throw corrupt(`SETITEM on ${describe(target)}`)
  for (let i = 0; i < items.length; i += 2) map.set(items[i], items[i + 1])
}

function build(target: unknown, state: unknown) {
  if (target instanceof PyObject) {
    // state may be a dict, or (dict, slotstate)
    if (Array.isArray(state) && state.length === 2 && (state[0] instanceof PyDict || state[0] === null)) {
      const merged = new PyDict()
      for (const part of state) if (part instanceof PyDict) for (const [k, v] of part.map) merged.map.set(k, v)
      target.state = merged
    } else target.state = state
  } else if (target instanceof PyDict) target.attrs = state
  // BUILD on a tensor (python attributes) or a container: nothing to keep
}

function isIntList(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isInteger(x))
}

function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0
  let v = 0n
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!)
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length)
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v
}

function parseIntText(s: string, corrupt: (w: string) => ModelError): number | bigint {
  if (!/^[-+]?\d+$/.test(s.trim())) throw corrupt(`bad integer '${s}'`)
  const v = BigInt(s.trim())
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v
}

function latin1(b: Uint8Array): string {
  let s = ''
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192))
  return s
}

function unquote(s: string): string {
  const q = s[0]
  if ((q === "'" || q === '"') && s.endsWith(q)) s = s.slice(1, -1)
  return s.replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_, e: string) =>
    e[0] === 'x' ? String.fromCharCode(Number.parseInt(e.slice(1), 16)) : e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e,
  )
}

/** A short description of a pickled value, for messages. */
export function describe(v: unknown): string {
  if (v === null) return 'None'
  if (v instanceof PyGlobal) return v.qualname
  if (v instanceof PyObject) return `a ${v.cls} object`
  if (v instanceof PyDict) return v.cls === 'builtins.dict' ? 'a dict' : 'an OrderedDict'
  if (v instanceof TensorRef) return `a tensor [${v.shape}]`
  if (v instanceof StorageRef) return 'a storage'
  if (Array.isArray(v)) return 'a tuple/list'
  if (v instanceof Set) return 'a set'
  if (v instanceof Uint8Array) return 'bytes'
  return typeof v === 'string' ? 'a string' : typeof v
}

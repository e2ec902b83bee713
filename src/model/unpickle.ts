import { ModelError } from '../errors/base.ts'
import { refusalHint, resolveGlobal } from './pickle/allowlist.ts'
import { parseIntText, PickleBytes } from './pickle/byteReader.ts'
import { NOT_LITERAL, readLiteral } from './pickle/literals.ts'
import { appendTo, build, callFunction, newObject, setItems } from './pickle/reconstructors.ts'
import { describe, PyDict, PyGlobal, PyObject } from './pickle/values.ts'

export { resolveGlobal } from './pickle/allowlist.ts'
export { describe, PyDict, PyGlobal, PyObject, StorageRef, TensorRef } from './pickle/values.ts'

/**
 * A restricted pickle reader for the pickles torch.save and torch.jit.save write (protocol 2, plus the
 * opcodes of protocols 0–5 that plain data uses). It never executes anything: a GLOBAL is resolved
 * against an allowlist, the few allowed callables (`torch._utils._rebuild_tensor_v2`,
 * `collections.OrderedDict`, `builtins.set`, …) are re-implemented as data constructors (pickle/), and
 * classes (nn.Module subclasses, TorchScript `__torch__.*` modules, a user's own `__main__.Net`) become
 * inert records `{ cls, args, state }`. Any other global (`posix.system`, `builtins.eval`, …) is refused
 * with a ModelError naming it.
 */

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

/** Unpickle one pickle from `bytes`. Returns the value and the offset just after its STOP. */
export function unpickle(bytes: Uint8Array, opts: UnpickleOptions): { value: unknown; end: number } {
  const file = opts.file
  const where = file
  const inMember = opts.member ? `in ${opts.member}` : undefined
  let stack: unknown[] = []
  const metastack: unknown[][] = []
  const memo = new Map<number, unknown>()

  const corrupt = (what: string) =>
    new ModelError(`the pickle is truncated or corrupt: ${what}`, { where, hint: 'the file is incomplete or damaged; save it again', details: inMember })
  const r = new PickleBytes(bytes, opts.offset ?? 0, corrupt)
  const line = () => r.line()
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
    const at = r.pos
    const op = r.u8()
    switch (op) {
      case 0x80: // PROTO
        r.u8()
        break
      case 0x95: // FRAME
        r.take(8)
        break
      case 0x2e: // STOP '.'
        if (stack.length !== 1) throw corrupt(`STOP with ${stack.length} values on the stack`)
        return { value: stack[0], end: r.pos }
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
        memo.set(r.u8(), top())
        break
      case 0x72: // LONG_BINPUT 'r'
        memo.set(r.u32(), top())
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
        const k = op === 0x68 ? r.u8() : op === 0x6a ? r.u32() : (parseIntText(line(), corrupt) as number)
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
      default: {
        const v = readLiteral(op, r, corrupt)
        if (v === NOT_LITERAL) throw corrupt(`unknown opcode 0x${op.toString(16).padStart(2, '0')} at byte ${at}`)
        push(v)
      }
    }
  }
}

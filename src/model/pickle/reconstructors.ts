import { ModelError } from '../../errors/base.ts'
import { refusalHint } from './allowlist.ts'
import { describe, PyDict, PyGlobal, PyObject, StorageRef, TensorRef } from './values.ts'

/**
 * The allowlisted callables and the object opcodes (NEWOBJ, APPEND(S), SETITEM(S), BUILD), re-implemented
 * as data constructors: nothing a pickle names is ever run.
 */

export function newObject(cls: unknown, args: unknown[], where: string, corrupt: (w: string) => ModelError): unknown {
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

export function callFunction(name: string, a: unknown[], where: string): unknown {
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
    case 'torch.jit._pickle.build_tensorlist': // a scripted nn.GRU/LSTM's _flat_weights
      return Array.isArray(a[0]) ? [...a[0]] : []
    case 'torch.jit._pickle.restore_type_tag': // (value, 'List[str]'): the value, its TorchScript type noted
      return a[0]
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

export function appendTo(target: unknown, items: unknown[], corrupt: (w: string) => ModelError) {
  if (Array.isArray(target)) target.push(...items)
  else if (target instanceof PyObject) (target.list ??= []).push(...items)
  else if (target instanceof Set) for (const v of items) target.add(v)
  else throw corrupt(`APPEND to ${describe(target)}`)
}

export function setItems(target: unknown, items: unknown[], corrupt: (w: string) => ModelError) {
  if (items.length % 2) throw corrupt('SETITEMS with an odd number of values')
  let map: Map<unknown, unknown>
  if (target instanceof PyDict) map = target.map
  else if (target instanceof PyObject) map = target.items ??= new Map()
  else throw corrupt(`SETITEM on ${describe(target)}`)
  for (let i = 0; i < items.length; i += 2) map.set(items[i], items[i + 1])
}

export function build(target: unknown, state: unknown) {
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


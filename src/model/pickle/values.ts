/** The inert values a restricted unpickle makes: globals, dicts, object records, storages and tensors. */

/** A reference to a Python global that the allowlist accepted. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly role: 'function' | 'class' | 'storage' | 'dtype' | 'activation',
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

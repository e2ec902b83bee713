import { ModelError } from '../../errors/base.ts'
import { PyGlobal } from './values.ts'

/**
 * What a pickle's GLOBALs may name: the callables re-implemented in reconstructors.ts, torch storage and
 * dtype names, and class-like names (recorded, never constructed) outside the modules that reach the OS,
 * the interpreter or the import system.
 */

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
  'torch.jit._pickle.build_tensorlist',
  'torch.jit._pickle.restore_type_tag',
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

/**
 * Activation functions a module keeps as an attribute (nn.TransformerEncoderLayer's `activation` is F.relu or
 * F.gelu): recorded as a name, never called (a call of one is refused like any non-function global).
 */
const ACTIVATION_REFS = new Set(['torch.nn.functional.relu', 'torch.nn.functional.gelu', 'torch._C._nn.gelu'])

const MODULE_ALIASES: Record<string, string> = { __builtin__: 'builtins', copy_reg: 'copyreg' }

export function refusalHint(): string {
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
  if (ACTIVATION_REFS.has(qualname)) return new PyGlobal(module, name, 'activation')
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


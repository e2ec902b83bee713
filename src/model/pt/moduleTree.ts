import { ModelError } from '../../errors/base.ts'
import type { TensorMap } from '../../ir/types.ts'
import type { TorchArchive } from '../readTorchZip.ts'
import { describe, PyDict, PyObject, TensorRef } from '../unpickle.ts'

// ---------------------------------------------------------------------------------------------------
// module trees (torch.save(model) and TorchScript)

export type Node = {
  /** state_dict prefix: '' for the root, then `fc1`, `0`, `net.0` … */
  path: string
  /** the class as pickled, e.g. `torch.nn.modules.linear.Linear` or `__torch__.torch.nn.modules.linear.___torch_mangle_4.Linear` */
  rawClass: string
  /** mangling removed: `torch.nn.modules.linear.Linear`, `BCNet`, `__main__.BCNet` */
  cls: string
  short: string
  attrs: PyDict
  children: Node[]
  tensors: [string, TensorRef][]
  script: boolean
  obj: PyObject
}

export function isPyModule(v: unknown): v is PyObject {
  return v instanceof PyObject && v.state instanceof PyDict && v.state.map.has('_modules')
}

export function isScriptModule(v: unknown): v is PyObject {
  return v instanceof PyObject && v.cls.startsWith('__torch__.')
}

export function cleanClass(raw: string): string {
  return raw
    .replace(/^__torch__\./, '')
    .split('.')
    .filter((p) => !/^___torch_mangle_\d+$/.test(p))
    .join('.')
}

export function toNode(obj: PyObject, path: string, script: boolean, file: string, seen = new Set<PyObject>()): Node {
  if (seen.has(obj) || seen.size > 200)
    throw new ModelError(`the module tree is cyclic or nested more than 200 deep (at '${path}')`, { where: file, hint: 'the file is corrupt or was crafted' })
  seen = new Set(seen).add(obj)
  const cls = cleanClass(obj.cls)
  const short = cls.split('.').pop()!
  const attrs = obj.state instanceof PyDict ? obj.state : new PyDict()
  const children: Node[] = []
  const tensors: [string, TensorRef][] = []
  const join = (n: string) => (path ? `${path}.${n}` : n)
  if (script) {
    for (const [k, v] of attrs.map) {
      if (typeof k !== 'string') continue
      if (v instanceof TensorRef) tensors.push([k, v])
      else if (isScriptModule(v)) children.push(toNode(v, join(k), true, file, seen))
    }
  } else {
    const params = attrs.get('_parameters')
    const buffers = attrs.get('_buffers')
    const skip = attrs.get('_non_persistent_buffers_set')
    const nonPersistent = skip instanceof Set ? skip : new Set()
    for (const [d, persist] of [[params, false], [buffers, true]] as const)
      if (d instanceof PyDict)
        for (const [k, v] of d.map)
          if (typeof k === 'string' && v instanceof TensorRef && !(persist && nonPersistent.has(k))) tensors.push([k, v])
    const mods = attrs.get('_modules')
    if (mods instanceof PyDict)
      for (const [k, v] of mods.map) {
        if (typeof k !== 'string' || v === null) continue
        if (!isPyModule(v)) throw new ModelError(`submodule '${join(k)}' is ${describe(v)}, not an nn.Module`, { where: file })
        children.push(toNode(v, join(k), false, file, seen))
      }
  }
  return { path, rawClass: obj.cls, cls, short, attrs, children, tensors, script, obj }
}

export function collectTensors(archive: TorchArchive, node: Node, out: TensorMap) {
  for (const [k, ref] of node.tensors) {
    const name = node.path ? `${node.path}.${k}` : k
    out.set(name, archive.tensor(ref, name))
  }
  for (const c of node.children) collectTensors(archive, c, out)
}

export function isTorchNn(cls: string) {
  return cls.startsWith('torch.nn.')
}
export function isWrapper(n: Node) {
  return n.cls.startsWith('torch.nn.parallel.') && n.children.length === 1 && n.children[0]!.path.split('.').pop() === 'module'
}

/** Refuse anything that is not an MLP building block, naming its class and module path. */

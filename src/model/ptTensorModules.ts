import { ModelError } from '../errors/base.ts'
import type { ArchStep } from '../ir/types.ts'
import type { PaddingSpec } from '../ir/tensorTypes.ts'
import { matchParen, splitTop } from './pt/torchscriptCode.ts'

/** nn modules of convolutional models that whole-model .pt and TorchScript files may hold. */
export const TENSOR_MODULES = new Set([
  'Conv1d', 'Conv2d', 'MaxPool1d', 'MaxPool2d', 'AvgPool1d', 'AvgPool2d', 'AdaptiveAvgPool1d', 'AdaptiveAvgPool2d', 'AdaptiveMaxPool1d', 'AdaptiveMaxPool2d', 'BatchNorm2d',
])

/** What ml2sc can see of one module: its hyper-parameters (pickled __dict__ or TorchScript Final) and traced code. */
export type ModuleView = {
  short: string
  path: string
  /** A hyper-parameter as a JS value (number, number[], string, boolean, null), undefined when absent. */
  attr: (name: string) => unknown
  /** A traced module's forward() body: its hyper-parameters are inlined there. */
  forwardText?: string
}

/**
 * A TorchScript `Final` as a value: `(1, 1)` → [1, 1], `2` → 2, `"same"` → 'same', `True` → true, `None` → null.
 */
export function finalValue(text: string): unknown {
  const t = text.trim()
  if (t === 'None') return null
  if (t === 'True' || t === 'False') return t === 'True'
  const str = t.match(/^"(.*)"$|^'(.*)'$/)
  if (str) return str[1] ?? str[2]
  const tuple = t.match(/^[([](.*)[)\]]$/)
  if (tuple) return tuple[1]!.split(',').map((s) => s.trim()).filter(Boolean).map(Number)
  const n = Number(t)
  return Number.isFinite(n) ? n : t
}

/** The list arguments of the traced call `fn(x, …)` in a forward() body: `[1, 1]`, `"same"`, numbers, booleans. */
function tracedArgs(text: string | undefined, fn: RegExp): unknown[] | undefined {
  const m = text?.match(fn)
  if (!m) return undefined
  const open = m.index! + m[0].length
  return splitTop(text!.slice(open, matchParen(text!, open - 1))).map((p) => finalValue(p.trim()))
}

const perAxis = (v: unknown, dims: number, what: string, where: string): number[] | undefined => {
  if (v === undefined || v === null) return undefined
  const arr = typeof v === 'number' ? new Array<number>(dims).fill(v) : Array.isArray(v) && v.length === 1 ? new Array<number>(dims).fill(Number(v[0])) : v
  if (!Array.isArray(arr) || arr.length !== dims || arr.some((x) => !Number.isInteger(x)))
    throw new ModelError(`${what} ${JSON.stringify(v)} is not ${dims} integer(s)`, { where })
  return arr as number[]
}

/** PyTorch's `padding` argument: an int, a tuple, 'same' or 'valid'. */
export function paddingArg(v: unknown, dims: number, where: string): PaddingSpec | undefined {
  if (v === 'same') return 'same_upper'
  if (v === 'valid' || v === undefined || v === null) return undefined
  const p = perAxis(v, dims, 'padding', where)!
  return { begin: p, end: p }
}

/**
 * The architecture step of a conv/pool/BatchNorm2d module, from its hyper-parameters (whole-model
 * pickles, scripted Finals) or its traced call (torch._convolution, torch.max_pool2d, …).
 * undefined when the module is not one of TENSOR_MODULES.
 */
export function tensorModuleSteps(m: ModuleView, file: string): ArchStep[] | undefined {
  if (!TENSOR_MODULES.has(m.short)) return undefined
  const where = `${file}: ${m.short} '${m.path}'`
  const dims = m.short.endsWith('1d') ? 1 : 2
  const name = m.path
  const get = (key: string, traced: unknown) => m.attr(key) ?? traced
  if (m.short === 'BatchNorm2d') {
    const eps = m.attr('eps')
    return [typeof eps === 'number' ? { op: 'batchnorm', name, eps } : { op: 'batchnorm', name }]
  }
  if (m.short.startsWith('Conv')) {
    // torch._convolution(x, w, b, stride, padding, dilation, transposed, output_padding, groups, …) or
    // torch._convolution_mode(x, w, b, stride, "same", dilation, groups)
    const conv = tracedArgs(m.forwardText, /torch\._convolution\(/) ?? tracedArgs(m.forwardText, /torch\.conv[12]d\(/)
    const mode = tracedArgs(m.forwardText, /torch\._convolution_mode\(/)
    const t = conv ?? mode ?? []
    if (conv?.[6] === true || m.attr('transposed') === true) throw new ModelError('transposed convolutions are not supported', { where })
    const padMode = m.attr('padding_mode')
    if (padMode !== undefined && padMode !== 'zeros') throw new ModelError(`padding_mode '${String(padMode)}' is not supported`, { where, hint: "only zero padding (padding_mode='zeros')" })
    const groups = get('groups', conv ? (conv.length > 8 ? conv[8] : conv[6]) : mode?.[6])
    return [{
      op: 'conv',
      name,
      dims,
      stride: perAxis(get('stride', t[3]), dims, 'stride', where),
      padding: paddingArg(get('padding', t[4]), dims, where),
      dilation: perAxis(get('dilation', t[5]), dims, 'dilation', where),
      groups: typeof groups === 'number' ? groups : 1,
    }]
  }
  if (m.short.startsWith('Adaptive')) {
    const max = m.short.startsWith('AdaptiveMax')
    const out = get('output_size', tracedArgs(m.forwardText, max ? /adaptive_max_pool[12]d\(/ : /adaptive_avg_pool[12]d\(/)?.[1])
    const sizes = typeof out === 'number' ? new Array<number>(dims).fill(out) : Array.isArray(out) ? out : []
    if (sizes.length !== dims || sizes.some((s) => s !== null && (typeof s !== 'number' || !Number.isInteger(s) || s < 1)))
      throw new ModelError(`output_size ${JSON.stringify(out)} is not ${dims === 1 ? 'a size' : 'a size or a pair of sizes'}`, { where })
    if (max && m.attr('return_indices') === true) throw new ModelError('return_indices=True is not supported', { where })
    if (!max && sizes.every((s) => s === 1)) return [{ op: 'globalavgpool', name }]
    return [{ op: 'adaptivepool', kind: max ? 'maxpool' : 'avgpool', dims, output: sizes as (number | null)[], name }]
  }
  const max = m.short.startsWith('Max')
  // torch.max_pool2d(x, kernel, stride, padding, dilation[, ceil_mode]); torch.avg_pool2d(x, kernel, stride, padding[, ceil_mode, count_include_pad, divisor_override])
  const t = tracedArgs(m.forwardText, max ? /max_pool[12]d\(/ : /avg_pool[12]d\(/) ?? []
  const kernel = perAxis(get('kernel_size', t[1]), dims, 'kernel_size', where)
  if (!kernel) throw new ModelError('its kernel_size is unknown', { where })
  const strideRaw = get('stride', t[2])
  const stride = Array.isArray(strideRaw) && strideRaw.length === 0 ? undefined : perAxis(strideRaw, dims, 'stride', where)
  const ceilMode = get('ceil_mode', max ? t[5] : t[4]) === true
  if (!max && m.attr('divisor_override') !== undefined && m.attr('divisor_override') !== null) throw new ModelError('divisor_override is not supported', { where })
  if (max && m.attr('return_indices') === true) throw new ModelError('return_indices=True is not supported', { where })
  const cip = get('count_include_pad', t[5])
  return [{
    op: max ? 'maxpool' : 'avgpool',
    name,
    dims,
    kernel,
    stride: stride ?? kernel,
    padding: paddingArg(get('padding', t[3]), dims, where),
    ...(max ? { dilation: perAxis(get('dilation', t[4]), dims, 'dilation', where) } : { countIncludePad: cip === undefined ? true : cip === true }),
    ...(ceilMode ? { ceilMode } : {}),
  }]
}

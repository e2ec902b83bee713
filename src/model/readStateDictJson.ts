import { readFile } from 'node:fs/promises'
import { ModelError } from '../errors/base.ts'
import type { Tensor, TensorMap } from '../ir/types.ts'
import type { LoadedFile } from './types.ts'

/**
 * A state_dict saved as JSON (ML2SC's weights files): `{ "fc1.weight": [[...]], "fc1.bias": [...] }`.
 * Keys keep their order; values are numbers or nested arrays of numbers (at most 2-D).
 */
export async function readStateDictJson(file: string): Promise<LoadedFile> {
  let textIn: string
  try {
    textIn = await readFile(file, 'utf8')
  } catch (err) {
    throw new ModelError(`cannot read ${file}: ${(err as Error).message}`, { where: file, cause: err })
  }
  let doc: unknown
  try {
    doc = JSON.parse(textIn)
  } catch (err) {
    const { offset, what } = locateJsonError(textIn)
    const { line, col } = lineCol(textIn, offset)
    const nonJson = /^(NaN|-?Infinity)/.exec(textIn.slice(offset))
    throw new ModelError(`invalid JSON at line ${line}, column ${col}: ${nonJson ? `'${nonJson[0]}' is not a JSON number` : what}`, {
      where: file,
      hint: nonJson ? 'the weights contain NaN/Infinity; the model is broken (retrain it or check the export)' : 'the weights file must be a JSON object of name -> (nested) number arrays',
      cause: err,
    })
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw new ModelError(`expected a JSON object of tensors, found ${Array.isArray(doc) ? 'an array' : doc === null ? 'null' : typeof doc}`, {
      where: file,
      hint: 'save it with json.dump({k: v.tolist() for k, v in model.state_dict().items()}, f)',
    })
  let obj = doc as Record<string, unknown>
  // { "state_dict": { ... } } as some training scripts save it
  const keys = Object.keys(obj)
  if (keys.length === 1 && /^(model_)?state_dict$|^model$/.test(keys[0]!) && obj[keys[0]!] && typeof obj[keys[0]!] === 'object' && !Array.isArray(obj[keys[0]!]))
    obj = obj[keys[0]!] as Record<string, unknown>

  const tensors: TensorMap = new Map()
  for (const [key, value] of Object.entries(obj)) tensors.set(key, toTensor(value, key, file))
  if (tensors.size === 0) throw new ModelError('the JSON object holds no tensors', { where: file })
  return { format: 'state_dict-json', tensors }
}

function toTensor(value: unknown, key: string, file: string): Tensor {
  if (typeof value === 'number') return { shape: [], data: Float64Array.of(value) }
  if (!Array.isArray(value))
    throw new ModelError(`'${key}' is ${describe(value)}, expected a number array`, { where: file, hint: 'every value must be a number or a (nested) array of numbers' })
  if (value.length > 0 && Array.isArray(value[0])) {
    const cols = (value[0] as unknown[]).length
    if (cols > 0 && Array.isArray((value[0] as unknown[])[0])) return nestedTensor(value, key, file)
    const data = new Float64Array(value.length * cols)
    value.forEach((row, r) => {
      if (!Array.isArray(row)) throw new ModelError(`'${key}'[${r}] is ${describe(row)}, expected a row of ${cols} numbers`, { where: file })
      if (row.length !== cols) throw new ModelError(`'${key}' is ragged: row ${r} has ${row.length} entries, row 0 has ${cols}`, { where: file, hint: 'a weight matrix needs rows of equal length' })
      row.forEach((v, c) => {
        if (typeof v !== 'number') throw new ModelError(`'${key}'[${r}][${c}] is ${describe(v)}, expected a number`, { where: file, hint: 'every entry must be a number' })
        data[r * cols + c] = v
      })
    })
    return { shape: [value.length, cols], data }
  }
  const data = new Float64Array(value.length)
  value.forEach((v, i) => {
    if (typeof v !== 'number') throw new ModelError(`'${key}'[${i}] is ${describe(v)}, expected a number`, { where: file, hint: Array.isArray(v) ? `'${key}' is ragged: a mix of numbers and rows` : 'every entry must be a number' })
    data[i] = v
  })
  return { shape: [value.length], data }
}

/** A 3-D or 4-D tensor (a Conv1d/Conv2d weight) as nested arrays; every level must be rectangular. */
function nestedTensor(value: unknown[], key: string, file: string): Tensor {
  const shape: number[] = []
  for (let v: unknown = value; Array.isArray(v); v = v[0]) shape.push(v.length)
  if (shape.length > 4) throw new ModelError(`'${key}' has ${shape.length} dimensions`, { where: file, hint: 'ml2sc reads tensors of at most 4 dimensions (a Conv2d weight)' })
  const data = new Float64Array(shape.reduce((a, b) => a * b, 1))
  let at = 0
  const walk = (v: unknown, depth: number, index: string) => {
    if (depth === shape.length) {
      if (typeof v !== 'number') throw new ModelError(`'${key}'${index} is ${describe(v)}, expected a number`, { where: file, hint: 'every entry must be a number' })
      data[at++] = v
      return
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) throw new ModelError(`'${key}' is ragged at ${index || 'the top'}: expected ${shape[depth]} entries`, { where: file, hint: 'a tensor needs rows of equal length' })
    v.forEach((w, i) => walk(w, depth + 1, `${index}[${i}]`))
  }
  walk(value, 0, '')
  return { shape, data }
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v)}`
  if (typeof v === 'object') return 'an object'
  return `${typeof v} ${String(v)}`
}

function lineCol(s: string, offset: number): { line: number; col: number } {
  let line = 1
  let last = -1
  for (let i = 0; i < offset && i < s.length; i++) if (s.charCodeAt(i) === 10) (line++, (last = i))
  return { line, col: offset - last }
}

/** Find where JSON.parse failed (engines differ in what they report), with a short description. */
export function locateJsonError(s: string): { offset: number; what: string } {
  let i = 0
  const ws = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\n' || s[i] === '\r' || s[i] === '\t')) i++
  }
  class Stop {
    constructor(
      readonly offset: number,
      readonly what: string,
    ) {}
  }
  const fail = (what: string): never => {
    throw new Stop(i, i >= s.length ? 'unexpected end of file (truncated?)' : what)
  }
  const value = (): void => {
    ws()
    const c = s[i]
    if (c === '{') {
      i++
      ws()
      if (s[i] === '}') return void i++
      while (true) {
        ws()
        if (s[i] !== '"') fail(`expected a "key", found '${s[i]}'`)
        str()
        ws()
        if (s[i] !== ':') fail(`expected ':', found '${s[i]}'`)
        i++
        value()
        ws()
        if (s[i] === ',') {
          i++
          continue
        }
        if (s[i] === '}') return void i++
        fail(`expected ',' or '}', found '${s[i]}'`)
      }
    }
    if (c === '[') {
      i++
      ws()
      if (s[i] === ']') return void i++
      while (true) {
        value()
        ws()
        if (s[i] === ',') {
          i++
          continue
        }
        if (s[i] === ']') return void i++
        fail(`expected ',' or ']', found '${s[i]}'`)
      }
    }
    if (c === '"') return str()
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/.exec(s.slice(i, i + 400))
    if (m && m[0].length) return void (i += m[0].length)
    for (const lit of ['true', 'false', 'null']) if (s.startsWith(lit, i)) return void (i += lit.length)
    fail(`unexpected '${c}'`)
  }
  const str = () => {
    i++
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\') i++
      else if (s.charCodeAt(i) < 0x20) fail('control character in string')
      i++
    }
    if (i >= s.length) fail('unterminated string')
    i++
  }
  try {
    value()
    ws()
    if (i < s.length) fail(`unexpected '${s[i]}' after the JSON value`)
    return { offset: 0, what: 'invalid JSON' }
  } catch (e) {
    if (e instanceof Stop) return { offset: e.offset, what: e.what }
    throw e
  }
}

/**
 * Validates a parsed config against schemas/ml2sc.schema.json with ajv (every problem at once) and fills
 * the schema's defaults in place. Each ajv error becomes one `Problem`: a key path plus a short sentence.
 */
import type { ErrorObject } from 'ajv'
import { checkOwnerAddress } from './checkOwnerAddress.ts'
import { configValidator } from './configValidatorBuild.ts'
import type { Problem } from './problem.ts'
import { mustBe, schema, schemaAt, type SchemaNode } from './schema.ts'

export type { Problem }

export const PRIVATE_KEY_MESSAGE =
  'private keys must not be written in the config (configs get committed); set ML2SC_PRIVATE_KEY in the environment instead'

// ajv's code for the schema, generated beforehand (configValidatorBuild.ts): no schema compile at start-up
const validate = configValidator()

/** Validates `data` (mutated: defaults are filled in) and returns every problem found, in document order. */
export function validateConfig(data: unknown): Problem[] {
  if (data === null || data === undefined) return [{ path: '', segments: [], message: 'the config is empty' }]
  if (typeof data !== 'object' || Array.isArray(data))
    return [{ path: '', segments: [], message: 'the config must be a mapping of keys (model:, data:, …)' }]
  if (validate(data)) return checkOwnerAddress(data)
  return toProblems(validate.errors ?? [])
}

function toProblems(errors: ErrorObject[]): Problem[] {
  // anyOf reports one error per failed branch plus its own; keep only its own.
  const anyOfPaths = errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath)
  const problems: Problem[] = []
  const seen = new Set<string>()
  for (const error of errors) {
    if (error.keyword === 'if') continue
    if (
      error.keyword !== 'anyOf' &&
      error.schemaPath.includes('/anyOf/') &&
      anyOfPaths.some((p) => error.instancePath === p || error.instancePath.startsWith(`${p}/`))
    )
      continue
    const problem = toProblem(error)
    const key = `${problem.path}\0${problem.message}`
    if (seen.has(key)) continue
    seen.add(key)
    problems.push(problem)
  }
  return problems
}

function segmentsOf(instancePath: string): (string | number)[] {
  if (!instancePath) return []
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s))
}

export function formatPath(segments: readonly (string | number)[]): string {
  let out = ''
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : out ? `.${s}` : s
  return out
}

function got(value: unknown): string {
  if (value === null) return ' (got null)'
  if (typeof value === 'object') return Array.isArray(value) ? ' (got a list)' : ' (got a mapping)'
  const text = typeof value === 'string' ? `'${value}'` : String(value)
  return ` (got ${text.length > 40 ? `${text.slice(0, 37)}…` : text})`
}

function toProblem(error: ErrorObject): Problem {
  const segments = segmentsOf(error.instancePath)
  const parent = (error.parentSchema ?? {}) as SchemaNode
  const at = (segs: (string | number)[], message: string): Problem => ({ path: formatPath(segs), segments: segs, message })
  const params = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'required':
      return at([...segments, String(params.missingProperty)], 'required')
    case 'additionalProperties': {
      const key = String(params.additionalProperty)
      if (/^private[-_]?key$/i.test(key)) return at([...segments, key], PRIVATE_KEY_MESSAGE)
      const stringPath = segments.filter((s): s is string => typeof s === 'string')
      const suggestion = didYouMean(key, stringPath)
      return at([...segments, key], `unknown key${suggestion ? ` (did you mean '${suggestion}'?)` : ''}`)
    }
    case 'not': {
      const both = (error.schema as SchemaNode).required
      if (both?.length === 2) return at(segments, `set either ${both[0]} or ${both[1]}, not both`)
      return at(segments, error.message ?? 'is not allowed')
    }
    case 'pattern': {
      // RPC URLs often embed an API key: don't echo them.
      const echo = segments[0] === 'chain' ? '' : got(error.data)
      return at(segments, `${parent.patternErrorMessage ?? `must match ${parent.pattern}`}${echo}`)
    }
    case 'minLength':
    case 'minItems':
      return at(segments, 'must not be empty')
    case 'uniqueItems': {
      const list = error.data as unknown[]
      return at(segments, `lists '${String(list[Number(params.i)])}' twice`)
    }
    case 'type':
    case 'enum':
    case 'const':
    case 'anyOf':
    case 'minimum':
    case 'maximum':
    case 'multipleOf':
      if (segments.length === 0) return at(segments, 'the config must be a mapping of keys (model:, data:, …)')
      return at(segments, `${mustBe(parent)}${got(error.data)}`)
    default:
      return at(segments, error.message ?? 'is invalid')
  }
}

/** Optimal-string-alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 0; j <= b.length; j++) d[0][j] = j
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1)
    }
  return d[a.length][b.length]
}

const normalize = (key: string) => key.toLowerCase().replace(/[-_\s]/g, '')

/**
 * A likely intended key for `key` found under `path`: a sibling that is spelled alike, else the same key
 * in another section (returned as its full path, e.g. `data.label` for a top-level `label`).
 */
export function didYouMean(key: string, path: readonly string[]): string | undefined {
  const siblings = Object.keys(schemaAt(path)?.properties ?? {})
  const n = normalize(key)
  const exact = siblings.find((s) => normalize(s) === n)
  if (exact) return exact
  let best: string | undefined
  let bestDistance = Infinity
  for (const s of siblings) {
    const distance = editDistance(n, normalize(s))
    if (distance < bestDistance) [best, bestDistance] = [s, distance]
  }
  const limit = n.length <= 3 ? 1 : n.length <= 6 ? 2 : 3
  if (best !== undefined && bestDistance <= limit) return best
  // The key exists elsewhere: misplaced rather than misspelled.
  for (const [where, found] of allKeyPaths(schema, []))
    if (normalize(found) === n && where.join('.') !== path.join('.')) return [...where, found].join('.')
  return undefined
}

function allKeyPaths(node: SchemaNode, at: string[]): [string[], string][] {
  const out: [string[], string][] = []
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    out.push([at, key])
    out.push(...allKeyPaths(child, [...at, key]))
  }
  return out
}

/**
 * The config's JSON Schema (schemas/ml2sc.schema.json), imported so that it is bundled into the compiled
 * binary, plus small helpers that describe its parts in words (used by error messages and the README's
 * config reference).
 */
import schemaJson from '../../schemas/ml2sc.schema.json' with { type: 'json' }

export type SchemaNode = {
  description?: string
  type?: string | string[]
  enum?: unknown[]
  const?: unknown
  default?: unknown
  minimum?: number
  maximum?: number
  minLength?: number
  minItems?: number
  pattern?: string
  patternErrorMessage?: string
  properties?: Record<string, SchemaNode>
  required?: string[]
  items?: SchemaNode
  anyOf?: SchemaNode[]
  not?: SchemaNode
  if?: SchemaNode
  then?: SchemaNode
  [key: string]: unknown
}

export const schema = schemaJson as unknown as SchemaNode

/** The schema node of a key path like ['precision', 'weights'], or undefined. */
export function schemaAt(path: readonly string[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = schema
  for (const key of path) node = node?.properties?.[key]
  return node
}

const article = (word: string) => (/^[aeiou]/.test(word) ? 'an' : 'a')

/** A short phrase for the values a schema node accepts: "integer 4..64", "int8, int16 or auto", … */
export function describeType(node: SchemaNode): string {
  if (node.anyOf) return node.anyOf.map(describeType).join(' or ')
  if (node.const !== undefined) return String(node.const)
  if (node.enum) return node.enum.map((v) => String(v)).join(' | ')
  const type = Array.isArray(node.type) ? node.type.join(' | ') : (node.type ?? 'any')
  if (type === 'integer' || type === 'number') {
    if (node.minimum !== undefined && node.maximum !== undefined) return `${type} ${node.minimum}..${node.maximum}`
    if (node.minimum !== undefined) return `${type} ≥ ${node.minimum}`
    if (node.maximum !== undefined) return `${type} ≤ ${node.maximum}`
  }
  if (type === 'array' && node.items) return `list of ${describeType(node.items)}`
  if (type === 'object') return 'section'
  return type
}

/** "must be …" wording of describeType, for error messages. */
export function mustBe(node: SchemaNode): string {
  if (node.anyOf) return `must be ${node.anyOf.map(mustBeValue).join(' or ')}`
  return `must be ${mustBeValue(node)}`
}

function mustBeValue(node: SchemaNode): string {
  if (node.const !== undefined) return JSON.stringify(node.const)
  if (node.enum) return `one of ${node.enum.map((v) => String(v)).join(', ')}`
  const type = Array.isArray(node.type) ? node.type.join(' or ') : (node.type ?? 'a value')
  const noun = type === 'object' ? 'mapping' : type === 'array' ? 'list' : type
  let phrase = `${article(noun)} ${noun}`
  if (node.minimum !== undefined && node.maximum !== undefined) phrase += ` from ${node.minimum} to ${node.maximum}`
  else if (node.minimum !== undefined) phrase += ` ≥ ${node.minimum}`
  else if (node.maximum !== undefined) phrase += ` ≤ ${node.maximum}`
  return phrase
}

/**
 * The README's config reference, generated from schemas/ml2sc.schema.json so that the two cannot drift
 * (test/config/config-reference.test.ts checks README.md; scripts/update-readme-config.ts rewrites it).
 */
import { describeType, schema, type SchemaNode } from './schema.ts'

export const REFERENCE_START = '<!-- config-reference:start -->'
export const REFERENCE_END = '<!-- config-reference:end -->'

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
const code = (text: string) => `\`${text}\``
const literal = (value: unknown) => code(typeof value === 'string' ? value : JSON.stringify(value))

/** A default that the schema sets conditionally through `if: {not: {required: [x]}}, then: {…default}`. */
function conditionalDefault(section: SchemaNode, key: string): string | undefined {
  const value = section.then?.properties?.[key]?.default
  if (value === undefined) return undefined
  const absent = section.if?.not?.required
  return absent?.length ? `${literal(value)} unless ${absent.map(code).join(', ')} is set` : literal(value)
}

function defaultOf(parent: SchemaNode, key: string, node: SchemaNode): string {
  if (parent.required?.includes(key)) return 'required'
  if (node.type === 'object') return ''
  if (node.default !== undefined) return literal(node.default)
  return conditionalDefault(parent, key) ?? ''
}

/** Markdown table: one row per key (sections included), in schema order. */
export function configReference(): string {
  const lines = ['| Key | Type | Default | Description |', '| --- | --- | --- | --- |']
  const walk = (parent: SchemaNode, prefix: string) => {
    for (const [key, node] of Object.entries(parent.properties ?? {})) {
      const path = prefix + key
      lines.push(
        `| ${code(path)} | ${cell(describeType(node))} | ${cell(defaultOf(parent, key, node))} | ${cell(node.description ?? '')} |`,
      )
      if (node.properties) walk(node, `${path}.`)
    }
  }
  walk(schema, '')
  return `${lines.join('\n')}\n`
}

/** The text between the README markers (trimmed), or undefined when a marker is missing. */
export function readmeSection(readme: string): string | undefined {
  const start = readme.indexOf(REFERENCE_START)
  const end = readme.indexOf(REFERENCE_END)
  if (start < 0 || end < start) return undefined
  return readme.slice(start + REFERENCE_START.length, end).trim()
}

/** README text with the section between the markers replaced by the generated table. */
export function withReference(readme: string): string | undefined {
  const start = readme.indexOf(REFERENCE_START)
  const end = readme.indexOf(REFERENCE_END)
  if (start < 0 || end < start) return undefined
  return `${readme.slice(0, start + REFERENCE_START.length)}\n\n${configReference()}\n${readme.slice(end)}`
}

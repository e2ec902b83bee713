import { expect, test } from 'bun:test'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  REFERENCE_END,
  REFERENCE_START,
  configReference,
  readmeSection,
  withReference,
} from '../../src/config/configReference.ts'
import { schema, type SchemaNode } from '../../src/config/schema.ts'

const readmePath = join(import.meta.dir, '..', '..', 'README.md')

test('README.md holds the config reference generated from the schema', () => {
  const readme = existsSync(readmePath) ? readFileSync(readmePath, 'utf8') : ''
  const section = readmeSection(readme)
  if (section === undefined)
    throw new Error(
      `README.md must contain ${REFERENCE_START} and ${REFERENCE_END}; then run bun scripts/update-readme-config.ts`,
    )
  if (section !== configReference().trim())
    throw new Error('README.md config reference is out of date: run bun scripts/update-readme-config.ts')
})

test('every key of the schema has a description and a row in the reference', () => {
  const table = configReference()
  const walk = (node: SchemaNode, prefix: string) => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      expect(child.description, `${prefix}${key} has no description`).toBeString()
      expect(table).toContain(`| \`${prefix}${key}\` |`)
      walk(child, `${prefix}${key}.`)
    }
  }
  walk(schema, '')
})

test('withReference replaces only the text between the markers', () => {
  const before = `# ml2sc\n\n${REFERENCE_START}\nstale\n${REFERENCE_END}\n\nmore\n`
  const after = withReference(before)!
  expect(after.startsWith(`# ml2sc\n\n${REFERENCE_START}\n`)).toBe(true)
  expect(after.endsWith(`${REFERENCE_END}\n\nmore\n`)).toBe(true)
  expect(readmeSection(after)).toBe(configReference().trim())
  expect(withReference(after)).toBe(after)
  expect(withReference('# no markers')).toBeUndefined()
})

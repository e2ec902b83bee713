#!/usr/bin/env bun
// Rewrites the config reference in README.md, between <!-- config-reference:start --> and
// <!-- config-reference:end -->, from schemas/ml2sc.schema.json.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { REFERENCE_END, REFERENCE_START, withReference } from '../src/config/configReference.ts'

const readmePath = join(import.meta.dir, '..', 'README.md')
const readme = readFileSync(readmePath, 'utf8')
const updated = withReference(readme)
if (updated === undefined) {
  console.error(`README.md: add the lines ${REFERENCE_START} and ${REFERENCE_END} where the config reference goes`)
  process.exit(1)
}
if (updated === readme) console.log('README.md: config reference already up to date')
else {
  writeFileSync(readmePath, updated)
  console.log('README.md: config reference updated')
}

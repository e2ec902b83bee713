// The committed config validator (src/config/configValidator.generated.js, which spares every CLI start
// compiling the schema) is exactly ajv's standalone code for the current schema, and validates as ajv's
// own compile does; a validator of another schema is never used.
import { expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { committedValidator, configAjv, schemaSha256 } from '../../src/config/configValidatorBuild.ts'
import { configValidatorSource } from '../../src/config/configValidatorSource.ts'
import { schema } from '../../src/config/schema.ts'
import { ROOT } from '../helpers/paths.ts'

test('the committed validator is the current schema\'s (else: bun scripts/build-config-validator.ts)', () => {
  expect(readFileSync(path.join(ROOT, 'src/config/configValidator.generated.js'), 'utf8')).toBe(configValidatorSource())
  expect(committedValidator()).toBeDefined()
})

test('a validator generated from another schema is not used', () => {
  const v = committedValidator()
  expect(committedValidator({ schemaSha256: schemaSha256({ ...schema, title: 'other' }), validate: v })).toBeUndefined()
  expect(committedValidator({ validate: v })).toBeUndefined()
})

test('the committed validator answers as ajv compiling the schema does: the same errors, the same defaults filled in', () => {
  const committed = committedValidator()!
  const compiled = configAjv().compile(schema)
  const configs = [
    { model: { path: 'm.onnx' }, data: { test: 't.csv' } },
    { model: { path: 'm.onnx' }, batch: { rows: 'many' }, precision: { fraction: 99 }, weights: { layout: 'sideways' } },
    { modle: { path: 'x' } },
    { model: { path: 'm.onnx' }, chain: { rpcUrl: 'ftp://x', fork: 'http://y', privateKey: '0x11' } },
  ]
  for (const config of configs) {
    const [a, b] = [structuredClone(config), structuredClone(config)]
    expect(committed(a)).toBe(compiled(b))
    expect(a).toEqual(b)
    const strip = (errors: typeof committed.errors) => (errors ?? []).map((e) => ({ ...e, schema: undefined, parentSchema: undefined }))
    expect(strip(committed.errors)).toEqual(strip(compiled.errors))
  }
  expect(committed({ model: { path: 'm.onnx' }, data: { test: 't.csv' } })).toBe(true)
})

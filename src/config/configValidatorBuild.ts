/**
 * The config validator: ajv's code for schemas/ml2sc.schema.json, generated once (ajv standalone) and
 * committed as configValidator.generated.js, so that a CLI start does not compile the schema (about 0.3 s
 * of CPU on every command that reads a config). The committed code is used only when it was generated
 * from the schema as it is now (its hash); otherwise ajv compiles the schema here, as before.
 * `bun scripts/build-config-validator.ts` regenerates it; test/config/config-validator-build.test.ts fails
 * while it is stale.
 */
import { createHash } from 'node:crypto'
import type { ValidateFunction } from 'ajv'
import * as generated from './configValidator.generated.js'
import { schema } from './schema.ts'

/** ajv's options for the config: every problem at once, defaults filled in, errors with their schema. */
export const AJV_OPTIONS = { allErrors: true, useDefaults: true, verbose: true, strict: true, strictRequired: false } as const

export const schemaSha256 = (s: unknown = schema): string => createHash('sha256').update(JSON.stringify(s)).digest('hex')

/** A new ajv that knows the schema's editor-only keyword (ajv loaded only here: the fallback, and the build). */
export function configAjv(extra: Record<string, unknown> = {}) {
  const Ajv = require('ajv').default as typeof import('ajv').default
  const ajv = new Ajv({ ...AJV_OPTIONS, ...extra })
  // Editors (VS Code's YAML/JSON support) show this keyword for pattern failures; ajv just needs to know it.
  ajv.addKeyword({ keyword: 'patternErrorMessage', schemaType: 'string' })
  return ajv
}

/** The committed validator when it is the current schema's, else undefined. */
export function committedValidator(g: { schemaSha256?: string; validate?: unknown } = generated): ValidateFunction | undefined {
  return g.schemaSha256 === schemaSha256() ? (g.validate as ValidateFunction) : undefined
}

/** The validator for the current schema: the committed one, or ajv's compile when that is stale. */
export const configValidator = (): ValidateFunction => committedValidator() ?? configAjv().compile(schema)

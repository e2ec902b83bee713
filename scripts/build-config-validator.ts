// Writes src/config/configValidator.generated.js: ajv's standalone validation code for
// schemas/ml2sc.schema.json, so that a CLI start does not compile the schema. Run after changing the schema:
//   bun scripts/build-config-validator.ts
// test/config/config-validator-build.test.ts fails while the committed code is not the schema's.
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { configValidatorSource } from '../src/config/configValidatorSource.ts'

const file = path.join(import.meta.dir, '../src/config/configValidator.generated.js')
writeFileSync(file, configValidatorSource())
console.log(`wrote ${path.relative(process.cwd(), file)}`)

// The types of configValidator.generated.js (written by scripts/build-config-validator.ts).
import type { ValidateFunction } from 'ajv'
export declare const schemaSha256: string
export declare const validate: ValidateFunction
export default validate

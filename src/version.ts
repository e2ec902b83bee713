import pkg from '../package.json' with { type: 'json' }

export const ML2SC_VERSION: string = pkg.version

/** The installed solc-js package's version, e.g. "0.8.37" (its package.json, without loading the compiler: ~2 s of CPU). */
export const solcPackageVersion = (): string => (require('solc/package.json') as { version: string }).version

import pkg from '../package.json' with { type: 'json' }

export const ML2SC_VERSION: string = pkg.version

import type { Ml2scCommand } from './context.ts'
import { schema } from '../config/schema.ts'

/** `ml2sc schema`: the config's JSON Schema on stdout (bundled in the binary: no repo checkout needed). */
export const schemaModule: Ml2scCommand = {
  builder: (y) =>
    y
      .example('$0 schema > ml2sc.schema.json', 'save it, e.g. for `# yaml-language-server: $schema=ml2sc.schema.json` in ml2sc.yaml'),
  handler: async (a) => {
    // with --json, cli.ts prints the returned value as one line; otherwise it is printed readable here
    if (a.json) return schema
    process.stdout.write(JSON.stringify(schema, null, 2) + '\n')
    return undefined
  },
}
